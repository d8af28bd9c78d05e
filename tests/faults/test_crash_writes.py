"""kill -9 a real server in the middle of concurrent API writes; after a restart (start-up
repair) or ``manage.py repair_audit``:

* every write whose response came back (2xx) is in the database;
* every write that happened, acknowledged or not, has its audit entry, and no audit
  entry describes a write that did not happen: an article at version v has exactly one
  ``create`` entry and v - 1 ``update`` entries (each PATCH adds one version);
* no pending entry is left, and ``PRAGMA integrity_check`` says ``ok``.

The server is ``manage.py runserver`` on an embedded database file, the writer a user
made with ``createsuperuser`` holding a token from ``createtoken``; several threads
POST and PATCH ``/api/blog/article/`` until the kill, which comes at a random moment
once some writes were acknowledged. A few rounds on the same file, bounded in time.
"""
import http.client
import json
import random
import threading
import time
from collections import Counter, defaultdict

import pytest

from crash_kit import Workspace, count, documents, integrity, kill9, plain, wait_for
from support.cli import free_port

PASSWORD = "correct horse battery staple"
WRITERS = 6
ROUNDS = 4
ROUND_BUDGET = 60.0          # seconds a round may take at most
TOTAL_BUDGET = 200.0


class Server:
    """``manage.py runserver`` on a fixed port, its output in a log file."""

    def __init__(self, ws):
        self.ws = ws
        self.port = free_port()
        self.log = open(ws.root / f"runserver-{self.port}.log", "w+")
        self.process = ws.start("runserver", "--port", self.port, log=self.log)
        try:
            wait_for(self.up, 60, interval=0.1, what="runserver to answer /healthz")
        except AssertionError:
            kill9(self.process)
            raise AssertionError(self.output())

    def up(self):
        if self.process.poll() is not None:
            raise AssertionError(f"runserver exited: {self.output()}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
            conn.request("GET", "/healthz")
            return conn.getresponse().status == 200
        except OSError:
            return False

    def output(self):
        self.log.flush()
        self.log.seek(0)
        return self.log.read()

    def kill(self):
        kill9(self.process)
        self.log.close()


class Writers:
    """Threads creating and editing articles through the API until the server dies.

    ``acked`` lists what the server acknowledged: ``("create", id, version)`` or
    ``("update", id, version)``.
    """

    def __init__(self, port, token):
        self.port = port
        self.headers = {"Authorization": f"Bearer {token}",
                        "Content-Type": "application/json"}
        self.acked = []
        self.errors = []             # 5xx answers: never acceptable, even mid-crash
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self.work, args=(n,), daemon=True)
                        for n in range(WRITERS)]

    def start(self):
        for thread in self.threads:
            thread.start()

    def join(self):
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=30)

    def call(self, method, path, body):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            conn.request(method, path, body=json.dumps(body), headers=self.headers)
            response = conn.getresponse()
            return response.status, json.loads(response.read() or b"{}")
        finally:
            conn.close()

    def work(self, number):
        mine = []
        rng = random.Random(number)
        step = 0
        while not self.stop.is_set():
            step += 1
            try:
                if not mine or rng.random() < 0.4:
                    status, data = self.call("POST", "/api/blog/article/",
                                             {"title": f"w{number} s{step}", "body": "x"})
                    if status == 201:
                        with self.lock:
                            self.acked.append(("create", data["id"], data["version"]))
                        mine.append(data["id"])
                    elif status >= 500:
                        self.errors.append(("POST", status, data))
                else:
                    target = rng.choice(mine)
                    status, data = self.call("PATCH", f"/api/blog/article/{target}",
                                             {"title": f"w{number} s{step} edit"})
                    if status == 200:
                        with self.lock:
                            self.acked.append(("update", data["id"], data["version"]))
                    elif status >= 500:
                        self.errors.append(("PATCH", status, data))
            except (OSError, http.client.HTTPException, ValueError):
                return               # the server is gone (or died mid-answer)


def audit_state(path):
    """``{article id: Counter(action)}`` from the audit log, and the articles' versions."""
    entries = defaultdict(Counter)
    for doc in documents(path, "audit_log"):
        if doc.get("model_key") == "blog.article":
            entries[doc["object_id"]][doc["action"]] += 1
    versions = {plain(doc["_id"]): doc.get("version")
                for doc in documents(path, "blog_article")}
    return entries, versions


def check_round(ws, acked, label):
    path = ws.db_path()
    assert integrity(path) == ["ok"], label
    assert count(path, "audit_pending") == 0, f"{label}: pending entries left after repair"
    entries, versions = audit_state(path)
    for kind, object_id, version in acked:
        assert object_id in versions, f"{label}: acknowledged {kind} of {object_id} is lost"
        assert versions[object_id] >= version, (label, kind, object_id, version)
    # every write that happened (acknowledged or not) has exactly its entry: an article
    # at version v went through one create and v - 1 updates (each PATCH adds one)
    missing, invented = [], []
    for object_id, version in versions.items():
        actions = entries.get(object_id, Counter())
        if actions["create"] < 1 or actions["update"] < version - 1:
            missing.append((object_id, version, dict(actions)))
        if actions["create"] > 1 or actions["update"] > version - 1:
            invented.append((object_id, version, dict(actions)))
    invented += [(object_id, None, dict(actions)) for object_id, actions in entries.items()
                 if object_id not in versions]
    assert not invented, f"{label}: audit entries without their write: {invented}"
    assert not missing, f"{label}: writes without their audit entry: {missing}"


@pytest.fixture
def ws(tmp_path, spawned):
    ws = Workspace(tmp_path, spawned)
    ws.ok("ensure_indexes")
    ws.ok("createsuperuser", "--username", "writer", "--email", "writer@example.com",
          "--password-stdin", input=PASSWORD + "\n")
    token = ws.ok("createtoken", "writer", "--name", "crash").stdout.strip().splitlines()[-1]
    assert token.startswith("bst_")
    ws.token = token
    return ws


def test_kill_during_api_writes_keeps_every_acknowledged_write_and_its_entry(ws):
    started = time.monotonic()
    acked = []
    server = Server(ws)
    for round_number in range(1, ROUNDS + 1):
        if time.monotonic() - started > TOTAL_BUDGET - ROUND_BUDGET:
            break
        writers = Writers(server.port, ws.token)
        writers.start()
        baseline = len(acked)
        wait_for(lambda: len(writers.acked) >= 10 + random.randint(0, 40)
                 or not any(t.is_alive() for t in writers.threads), ROUND_BUDGET / 2,
                 interval=0.005, what="some acknowledged writes")
        time.sleep(random.uniform(0, 0.3))
        server.kill()
        writers.join()
        acked += writers.acked
        assert not writers.errors, f"round {round_number}: {writers.errors[:5]}"
        assert len(acked) > baseline, f"round {round_number}: no write was acknowledged"
        pending = count(ws.db_path(), "audit_pending")
        if pending:
            assert "pending" in ws.run("check").stdout
        label = f"round {round_number} ({len(acked)} acknowledged writes, {pending} pending " \
                "at the kill)"
        print(label)
        if round_number % 2:
            ws.ok("repair_audit", "--min-age", "0")
            check_round(ws, acked, label + ", repaired by repair_audit")
            server = Server(ws)
        else:
            server = Server(ws)                   # start-up repair
            check_round(ws, acked, label + ", repaired at start-up")
    server.kill()
