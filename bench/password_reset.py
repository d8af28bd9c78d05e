"""Password reset timing: does the answer take as long for an unknown address as for a
known one?

    python bench/password_reset.py [--requests 200]

Serves the app in this process (embedded database in a temp folder, mail written to a
temp folder by the ``file:`` backend, the throttle's limits lifted), creates an active
user and an inactive one, then posts the reset form ``--requests`` times for each kind of
address — known, unknown, inactive — interleaved, one request at a time. Prints each
kind's p50/p90/mean in milliseconds and the p50 differences from the known address:
they should be within the run's noise (the mail is sent in the background, so the
answer never waits for it).

The figures are only as quiet as the machine: run it with nothing else busy.
"""
import argparse
import asyncio
import statistics
import sys
import tempfile
import time
import urllib.parse
from http.cookies import SimpleCookie
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.http_client import percentile  # noqa: E402

ADDRESSES = {"known": "bench@example.com", "unknown": "nobody@example.com",
             "inactive": "idle@example.com"}


def settings_for(workdir):
    from core.conf import load_settings
    return load_settings(
        "settings.base", environ={}, DATABASE_URL=f"embedded:{workdir}/bench.sqlite3",
        VAR_DIR=Path(workdir) / "var", INSTALLED_APPS=["core.audit", "apps.accounts"],
        BCRYPT_ROUNDS=4, COOKIE_SECRET="bench-only-secret-" + "x" * 32,
        EMAIL_URL=f"file:{workdir}/mail", DEBUG=False)


async def run(requests):
    import tornado.httpclient
    import tornado.testing

    from core.app import make_app, make_server, shutdown, startup
    from core.auth.password_reset import PasswordResetHandler

    PasswordResetHandler.requests_per_address = 10 ** 9      # measure the page, not the 429
    PasswordResetHandler.requests_per_client = 10 ** 9
    with tempfile.TemporaryDirectory() as workdir:
        app = make_app(settings_for(workdir))
        await startup(app)
        User = app.registry.get_model("accounts.user")
        await User.create_user("bench", ADDRESSES["known"], "plum-harbour-velvet",
                               db=app.db, rounds=4)
        await User.create_user("idle", ADDRESSES["inactive"], "plum-harbour-velvet",
                               db=app.db, rounds=4, is_active=False)
        sock, port = tornado.testing.bind_unused_port()
        server = make_server(app)
        server.add_sockets([sock])
        client = tornado.httpclient.AsyncHTTPClient(force_instance=True)
        url = f"http://127.0.0.1:{port}/admin/password_reset/"
        page = await client.fetch(url)
        cookie = SimpleCookie()
        for line in page.headers.get_list("Set-Cookie"):
            cookie.load(line)
        xsrf = cookie["_xsrf"].value
        timings = {kind: [] for kind in ADDRESSES}
        try:
            for _ in range(requests):
                for kind, address in ADDRESSES.items():
                    body = urllib.parse.urlencode({"email": address, "_xsrf": xsrf})
                    started = time.perf_counter()
                    reply = await client.fetch(url, method="POST", body=body,
                                               headers={"Cookie": f"_xsrf={xsrf}"},
                                               follow_redirects=False, raise_error=False)
                    timings[kind].append((time.perf_counter() - started) * 1000)
                    assert reply.code == 303, reply.code
            await app.mailer.drain(30)
            sent = len(list(Path(workdir, "mail").glob("*.eml")))
        finally:
            client.close()
            server.stop()
            await shutdown(app)
    print(f"{requests} requests per kind, one at a time; {sent} mails written "
          f"(expected {requests}: the known address only)")
    print(f"{'address':<10} {'p50 ms':>8} {'p90 ms':>8} {'mean ms':>8}")
    for kind, values in timings.items():
        print(f"{kind:<10} {percentile(values, 0.5):8.2f} {percentile(values, 0.9):8.2f} "
              f"{statistics.mean(values):8.2f}")
    known = percentile(timings["known"], 0.5)
    for kind in ("unknown", "inactive"):
        print(f"p50 {kind} - known: {percentile(timings[kind], 0.5) - known:+.2f} ms")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args(argv)
    asyncio.run(run(args.requests))


if __name__ == "__main__":
    main()
