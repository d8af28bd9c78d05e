"""Login throttling: per username and per address, in the database, before any bcrypt."""
import asyncio
import datetime
import ipaddress

import bcrypt
import pytest

from auth_kit import make_settings
from support import PASSWORD
from core.auth.handlers import password_slots
from core.auth.throttle import FAILURES_READ_AT_ONCE, LoginThrottle, ip_key
from core.db import connect

WRONG = "definitely-not-the-password"


@pytest.fixture
def bcrypt_calls(monkeypatch):
    """Counts bcrypt checks (the real function still runs)."""
    calls = []
    real = bcrypt.checkpw

    def counting(password, hashed):
        calls.append(hashed)
        return real(password, hashed)

    monkeypatch.setattr(bcrypt, "checkpw", counting)
    return calls


async def test_five_failures_lock_the_username_for_that_address_only(
        server, tmp_path, bcrypt_calls):
    site = await server(make_settings(tmp_path, XHEADERS=True))   # X-Real-Ip names the client
    await site.create_user("alice")
    browser = site.browser(remote_headers={"X-Real-Ip": "198.51.100.1"})
    for _ in range(5):
        response = await browser.login("alice", WRONG)
        assert response.code == 200
    assert len(bcrypt_calls) == 5
    locked = await browser.login("alice", PASSWORD)
    assert locked.code == 429
    retry_after = int(locked.headers["Retry-After"])
    assert 0 < retry_after <= 60                     # the first lock: the base delay
    assert "Too many failed login attempts" in locked.text
    assert len(bcrypt_calls) == 5                    # the password was not checked
    assert browser.session is None and await site.sessions() == []
    # the real user at another address is not locked out by the attacker
    other = site.browser(remote_headers={"X-Real-Ip": "203.0.113.7"})
    assert (await other.login("alice", PASSWORD)).code == 303
    failures = await site.db["login_failures"].find({"scope": "ip"}).to_list(None)
    assert {doc["key"] for doc in failures} == {"198.51.100.1"}


async def test_the_real_user_logs_in_from_a_clean_address_during_a_distributed_attack(
        server, tmp_path, bcrypt_calls):
    site = await server(make_settings(tmp_path, XHEADERS=True, LOGIN_THROTTLE_ATTACK_LIMIT=6))
    await site.create_user("alice")
    attackers = [site.browser(remote_headers={"X-Real-Ip": f"198.51.100.{n}"})
                 for n in range(1, 4)]
    for browser in attackers:                        # 3 addresses x 2 guesses: an attack
        for _ in range(2):
            assert (await browser.login("alice", WRONG)).code == 200
    checks = len(bcrypt_calls)
    # each failing address is down to one try: its next guess is refused unchecked
    for browser in attackers:
        assert (await browser.login("alice", WRONG)).code == 429
    assert len(bcrypt_calls) == checks
    # the real user, from an address that has not been failing, still logs in
    home = site.browser(remote_headers={"X-Real-Ip": "203.0.113.7"})
    assert (await home.login("alice")).code == 303 and home.session is not None
    # and so does another account from an attacking address
    await site.create_user("bob")
    assert (await attackers[0].login("bob")).code == 303


async def test_backoff_over_http_each_failure_after_a_lock_doubles_the_next(server, tmp_path):
    site = await server(make_settings(tmp_path, LOGIN_THROTTLE_BASE_DELAY_SECONDS=1))
    await site.create_user("alice")
    browser = site.browser()
    for _ in range(5):
        assert (await browser.login("alice", WRONG)).code == 200
    locked = await browser.login("alice")
    assert locked.code == 429 and locked.headers["Retry-After"] == "1"
    await asyncio.sleep(1.1)
    assert (await browser.login("alice", WRONG)).code == 200     # checked again: the 6th
    locked = await browser.login("alice")
    assert locked.code == 429 and locked.headers["Retry-After"] == "2"
    await asyncio.sleep(2.1)
    assert (await browser.login("alice")).code == 303            # the lock is over


async def test_concurrent_guesses_cannot_slip_past_the_limit(server, tmp_path, bcrypt_calls):
    # two password checks at once: at most one guess beyond the limit can be in flight
    site = await server(make_settings(tmp_path, LOGIN_THROTTLE_CONCURRENCY=2))
    await site.create_user("alice")
    browsers = [site.browser() for _ in range(12)]
    for browser in browsers:
        await browser.xsrf()
    responses = await asyncio.gather(*(b.login("alice", WRONG) for b in browsers))
    codes = [r.code for r in responses]
    assert len(bcrypt_calls) <= 5 + 1
    assert codes.count(200) == len(bcrypt_calls) and codes.count(429) == 12 - len(bcrypt_calls)
    assert (await site.browser().login("alice")).code == 429


async def test_concurrent_right_passwords_for_one_account_are_not_throttled(site):
    await site.create_user("alice")
    browsers = [site.browser() for _ in range(20)]
    for browser in browsers:
        await browser.xsrf()
    responses = await asyncio.gather(*(b.login("alice") for b in browsers))
    assert [r.code for r in responses] == [303] * 20
    assert len({b.session for b in browsers}) == 20
    assert len(await site.sessions()) == 20


async def test_wrong_current_passwords_on_password_change_count_too(site, bcrypt_calls):
    await site.create_user("alice")
    browser = site.browser()
    assert (await browser.login("alice")).code == 303
    form = {"old_password": WRONG, "new_password1": "quartz-meadow-lantern",
            "new_password2": "quartz-meadow-lantern"}
    for _ in range(5):
        assert (await browser.post("/admin/password_change/", form)).code == 200
    checks = len(bcrypt_calls)
    locked = await browser.post("/admin/password_change/", dict(form, old_password=PASSWORD))
    assert locked.code == 429 and int(locked.headers["Retry-After"]) > 0
    assert len(bcrypt_calls) == checks
    assert (await site.browser().login("alice")).code == 429


async def test_a_json_client_gets_429_json_with_retry_after(site):
    await site.create_user("alice")
    browser = site.browser()
    for _ in range(5):
        await browser.login("alice", WRONG)
    form = {"username": "alice", "password": PASSWORD, "_xsrf": await browser.xsrf()}
    response = await browser.fetch("/admin/login/", method="POST", form=form,
                                   headers={"Accept": "application/json"})
    assert response.code == 429
    assert int(response.headers["Retry-After"]) > 0
    assert "Too many failed login attempts" in response.json()["error"]


async def test_the_username_counter_ignores_case_and_other_users_are_unaffected(site):
    await site.create_user("alice")
    await site.create_user("bob")
    browser = site.browser()
    for name in ("alice", "ALICE", "Alice", "alice", "aLiCe"):
        await browser.login(name, WRONG)
    assert (await browser.login("alice")).code == 429
    assert (await browser.login("bob")).code == 303


async def test_success_resets_the_username_counter(site):
    await site.create_user("alice")
    browser = site.browser()
    for _ in range(4):
        await browser.login("alice", WRONG)
    assert (await browser.login("alice")).code == 303
    for _ in range(4):
        assert (await browser.login("alice", WRONG)).code == 200
    assert (await browser.login("alice")).code == 303    # 8 failures, but 4 since the success


async def test_twenty_failures_from_one_address_lock_it_and_success_does_not_reset_it(
        server, tmp_path, bcrypt_calls):
    site = await server(make_settings(tmp_path, XHEADERS=True))
    await site.create_user("alice")
    browser = site.browser(remote_headers={"X-Real-Ip": "198.51.100.1"})
    for number in range(19):
        assert (await browser.login(f"guess{number}", WRONG)).code == 200
    assert (await browser.login("alice")).code == 303     # a success from the address...
    await browser.login("guess-last", WRONG)              # ...then the 20th failure
    checks = len(bcrypt_calls)
    same_address = site.browser(remote_headers={"X-Real-Ip": "198.51.100.1"})
    locked = await same_address.login("alice")            # right password, fresh username count
    assert locked.code == 429 and int(locked.headers["Retry-After"]) > 0
    assert len(bcrypt_calls) == checks
    elsewhere = site.browser(remote_headers={"X-Real-Ip": "203.0.113.7"})
    assert (await elsewhere.login("alice")).code == 303


async def test_failures_are_counted_across_processes_sharing_the_database(server, tmp_path):
    url = f"embedded:{tmp_path / 'shared.sqlite3'}"
    first = await server(make_settings(tmp_path, DATABASE_URL=url))
    second = await server(make_settings(tmp_path, DATABASE_URL=url))
    await first.create_user("alice")
    for index in range(5):
        site = first if index % 2 else second
        assert (await site.browser().login("alice", WRONG)).code == 200
    assert (await first.browser().login("alice")).code == 429
    assert (await second.browser().login("alice")).code == 429


# -- the counter itself ------------------------------------------------------------------------

@pytest.fixture(params=["memory", "embedded"])
async def failures_db(request, tmp_path):
    db = connect("memory:" if request.param == "memory" else f"embedded:{tmp_path / 't.db'}")
    yield db
    await db.close()


def at(seconds):
    return datetime.datetime(2030, 1, 1, tzinfo=datetime.timezone.utc) + \
        datetime.timedelta(seconds=seconds)


async def test_backoff_doubles_the_lock_after_each_failure_past_the_limit(failures_db):
    throttle = LoginThrottle(failures_db, pair_limit=3, ip_limit=100, window_seconds=3600,
                             base_delay=60)
    for second in (0, 1, 2):
        await throttle.failed("alice", "10.0.0.1", now=at(second))
    verdict = await throttle.check("alice", "10.0.0.1", now=at(10))
    assert verdict.blocked and verdict.scope == "pair"
    assert verdict.retry_after == 52                  # 60 s from the latest failure (at 2)
    assert not (await throttle.check("alice", "10.0.0.1", now=at(62))).blocked
    await throttle.failed("alice", "10.0.0.1", now=at(62))            # the 4th: 120 s
    assert (await throttle.check("alice", "10.0.0.1", now=at(63))).retry_after == 119
    await throttle.failed("alice", "10.0.0.1", now=at(182))           # the 5th: 240 s
    assert (await throttle.check("alice", "10.0.0.1", now=at(182))).retry_after == 240
    # the same username from another address, and another username here, are free
    assert not (await throttle.check("alice", "10.0.0.2", now=at(182))).blocked
    assert not (await throttle.check("bob", "10.0.0.1", now=at(182))).blocked
    # the same person in another case or alphabet shares the counter
    assert (await throttle.check("АLICE", "10.0.0.1", now=at(182))).blocked


async def test_the_lock_never_exceeds_the_window_and_old_failures_leave_it(failures_db):
    throttle = LoginThrottle(failures_db, pair_limit=1, ip_limit=100, window_seconds=600,
                             base_delay=60)
    for second in range(0, 20):
        await throttle.failed("alice", "10.0.0.1", now=at(second))
    verdict = await throttle.check("alice", "10.0.0.1", now=at(20))
    assert verdict.blocked and verdict.retry_after == 599    # capped at the window
    assert not (await throttle.check("alice", "10.0.0.1", now=at(620))).blocked


async def test_ip_limit_with_backoff(failures_db):
    throttle = LoginThrottle(failures_db, pair_limit=100, ip_limit=2, window_seconds=600,
                             base_delay=30)
    for second, name in ((0, "a"), (10, "b"), (20, "c")):
        await throttle.failed(name, "10.0.0.9", now=at(second))
    verdict = await throttle.check("d", "10.0.0.9", now=at(30))
    assert verdict.blocked and verdict.scope == "ip"
    assert verdict.retry_after == 50                  # 3 failures, limit 2: 60 s after 20
    assert not (await throttle.check("d", "10.0.0.10", now=at(30))).blocked


async def test_ipv6_addresses_count_per_64_network(failures_db):
    throttle = LoginThrottle(failures_db, pair_limit=2, ip_limit=100, window_seconds=600)
    await throttle.failed("alice", "2001:db8:1:2::1", now=at(0))
    await throttle.failed("alice", "2001:db8:1:2:ffff::9", now=at(1))
    assert (await throttle.check("alice", "2001:db8:1:2::77", now=at(2))).blocked
    assert not (await throttle.check("alice", "2001:db8:1:3::1", now=at(2))).blocked


async def test_a_distributed_attack_leaves_failing_addresses_one_try_and_clean_ones_free(
        failures_db):
    throttle = LoginThrottle(failures_db, pair_limit=5, ip_limit=100, window_seconds=600,
                             attack_limit=10)
    for number in range(10):                          # ten addresses, one guess each
        await throttle.failed("alice", f"10.0.1.{number}", now=at(number))
    assert await throttle.under_attack("alice", now=at(11))
    verdict = await throttle.check("alice", "10.0.1.3", now=at(11))
    assert verdict.blocked and verdict.scope == "pair"    # already failed once: no more
    assert not (await throttle.check("alice", "192.0.2.50", now=at(11))).blocked  # clean
    assert not (await throttle.check("bob", "10.0.1.3", now=at(11))).blocked


async def test_success_clears_the_pair_only_and_ttl_removes_old_failures(failures_db):
    throttle = LoginThrottle(failures_db, pair_limit=2, ip_limit=2, window_seconds=60)
    await throttle.ensure_indexes()
    info = await failures_db["login_failures"].index_information()
    assert info["expires_at_ttl"]["expireAfterSeconds"] == 0
    now = datetime.datetime.now(datetime.timezone.utc)
    await throttle.failed("alice", "10.0.0.1", now=now - datetime.timedelta(seconds=120))
    await throttle.failed("alice", "10.0.0.1", now=now)
    await throttle.failed("alice", "10.0.0.1", now=now)
    await throttle.failed("alice", "10.0.0.2", now=now)
    await throttle.succeeded("alice", "10.0.0.1")
    stored = await failures_db["login_failures"].find({}).to_list(None)
    assert sum(doc["scope"] == "pair" for doc in stored) == 1      # 10.0.0.2's stays
    assert sum(doc["scope"] == "ip" for doc in stored) == 4
    assert sum(doc["scope"] == "user" for doc in stored) == 4
    assert (await throttle.check("bob", "10.0.0.1", now=now)).blocked
    assert await failures_db.sweep_expired() == 2     # the failure from 2 minutes ago
    stored = await failures_db["login_failures"].find({}).to_list(None)
    assert all("alice" not in str(doc) for doc in stored)   # usernames are stored hashed


SPIED = ("count_documents", "find", "delete_many", "delete_one", "insert_many", "insert_one")


def spy_on(collection, monkeypatch, names=SPIED):
    """The names of ``collection``'s methods called, in order (the real methods still run)."""
    calls = []
    for name in names:
        real = getattr(collection, name)

        def spy(*args, _name=name, _real=real, **kwargs):
            calls.append(_name)
            return _real(*args, **kwargs)

        monkeypatch.setattr(collection, name, spy)
    return calls


async def test_a_pair_without_failures_costs_one_query_and_its_success_no_write(
        failures_db, monkeypatch):
    """The usual login (every query of a storm of them is on the event loop's path): the
    pair's and the address's failures are read together; a pair with no failure is under
    any pair limit, so the attack count is not asked, and a right password has nothing to
    forget."""
    throttle = LoginThrottle(failures_db, pair_limit=5, ip_limit=20, attack_limit=1)
    await throttle.failed("alice", "10.0.0.9")       # alice is under attack (limit 1)
    calls = spy_on(throttle.collection, monkeypatch)
    verdict = await throttle.check("alice", "10.0.0.1")
    assert not verdict.blocked and verdict.pair_failures == 0
    await throttle.succeeded("alice", "10.0.0.1", verdict)
    assert calls == ["find"]                                    # the pair and the address
    # the attacking address is still judged under attack: its one try is used
    assert (await throttle.check("alice", "10.0.0.9")).blocked


async def test_a_success_after_counted_failures_forgets_them(failures_db):
    throttle = LoginThrottle(failures_db, pair_limit=5, ip_limit=20)
    await throttle.failed("alice", "10.0.0.1")
    await throttle.failed("alice", "10.0.0.1")
    verdict = await throttle.check("alice", "10.0.0.1")
    assert not verdict.blocked and verdict.pair_failures == 2
    await throttle.succeeded("alice", "10.0.0.1", verdict)
    assert await throttle.collection.count_documents({"scope": "pair"}) == 0
    assert await throttle.collection.count_documents({"scope": "ip"}) == 2


async def test_a_login_from_a_clean_address_with_a_free_slot_reads_the_failures_once(
        site, monkeypatch):
    """Over HTTP: a free password slot is taken at once, so the throttle is asked once,
    under it, in one query; nothing is written to ``login_failures``."""
    await site.create_user("alice")
    browser = site.browser()
    await browser.xsrf()
    collection = site.db["login_failures"]
    calls = spy_on(collection, monkeypatch)
    assert (await browser.login("alice")).code == 303
    assert calls == ["find"]


async def test_a_refused_guess_does_not_queue_for_a_taken_password_slot(site, monkeypatch):
    """With every password slot taken, the throttle is asked before queueing: a locked
    pair is refused while the slots are still held, not once one is free."""
    await site.create_user("alice")
    browser = site.browser()
    await browser.xsrf()
    for _ in range(5):
        assert (await browser.login("alice", WRONG)).code == 200
    slots = password_slots(site.app)
    held = 0
    while not slots.locked():
        await slots.acquire()
        held += 1
    try:
        calls = spy_on(site.db["login_failures"], monkeypatch)
        refused = await asyncio.wait_for(browser.login("alice"), 30)
        assert refused.code == 429
        assert calls.count("find") == 1            # asked once: before queueing
    finally:
        for _ in range(held):
            slots.release()


async def test_a_check_counts_every_failure_past_what_it_reads_at_once(failures_db):
    """A check reads at most ``FAILURES_READ_AT_ONCE`` + 1 failures first; when more came
    it reads them all, so a limit above that many still holds."""
    many = FAILURES_READ_AT_ONCE + 5
    throttle = LoginThrottle(failures_db, pair_limit=1000, ip_limit=many, window_seconds=600)
    for number in range(many - 1):
        await throttle.failed(f"user{number}", "10.0.0.9", now=at(number))
    assert not (await throttle.check("eve", "10.0.0.9", now=at(many))).blocked
    await throttle.failed("eve", "10.0.0.9", now=at(many))
    verdict = await throttle.check("eve", "10.0.0.9", now=at(many + 1))
    assert verdict.blocked and verdict.scope == "ip"
    assert verdict.retry_after == 59                  # 60 s after the last failure


async def test_a_check_reads_on_the_event_loops_thread_on_the_embedded_store(
        tmp_path, monkeypatch):
    """A login's two checks cost no hand-off to the embedded store's reader threads."""
    db = connect(f"embedded:{tmp_path / 't.db'}")
    try:
        # attack_limit 0: a pair with failures asks no count of the username's (a count
        # runs on a reader thread)
        throttle = LoginThrottle(db, pair_limit=5, ip_limit=20, attack_limit=0)
        await throttle.ensure_indexes()
        await throttle.failed("alice", "10.0.0.1")
        handed_off = []
        real = db._run

        async def spy(executor, *args, **kwargs):
            handed_off.append(executor is db._readers)
            return await real(executor, *args, **kwargs)

        monkeypatch.setattr(db, "_run", spy)
        verdict = await throttle.check("alice", "10.0.0.1")
        assert not verdict.blocked and verdict.pair_failures == 1
        assert (await throttle.check("bob", "10.0.0.1")).pair_failures == 0
        assert True not in handed_off
    finally:
        await db.close()


@pytest.mark.parametrize("ip", [
    "10.0.0.1", "255.255.255.255", "0.0.0.0", "010.0.0.1", "10.0.0.01", "1.2.3", "0x7f.0.0.1",
    "256.0.0.1", "10.0.0.1 ", " 10.0.0.1", "1.2.3.4.5", "1..2.3", "١.٢.٣.٤", "10.0.0.1\x00",
    "::ffff:10.0.0.1", "2001:db8:1:2::1", "unknown", "", None])
def test_the_address_key_is_what_ipaddress_makes_of_it(ip):
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        expected = (ip or "unknown")[:200]
    else:
        expected = str(address.ipv4_mapped or ipaddress.ip_network(f"{address}/64", strict=False)
                       if address.version == 6 else address)
    assert ip_key(ip) == expected
