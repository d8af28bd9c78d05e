"""List-page benchmark: the admin's article list under concurrent readers, 10k and 100k rows.

    python bench/list_page.py [--sizes 10000,100000] [--backends embedded,wire]
                              [--clients 8] [--seconds 8] [--deep 20] [--wire-sizes 10000]

For each backend and size: seeds ``blog.article`` (``insert_many`` in batches of 5,000;
articles reference 20 categories and 5 authors, one in two published), starts the real
app (audit, accounts, blog) in a child process on 127.0.0.1, logs in as a user holding
only ``blog.article: read``, then runs ``--clients`` keep-alive HTTP clients (in this
process, so they do not share the server's CPU time slice) against each page kind for
``--seconds`` (after ``--warmup`` untimed seconds of each):

* ``first``      ``/admin/blog/article/`` (newest first, 50 rows, estimated count)
* ``published``  ``?published=true`` (an indexed filter, capped count)
* ``category``   ``?category=<id>`` (an indexed reference filter, capped count)
* ``deep``       the page reached by following the ``next`` cursor ``--deep`` times

Before and after those, the same clients load a bare Tornado handler that returns a tiny
page (another child process): the ceiling of this machine, this client and Tornado (the
higher of the two runs counts). Prints
req/s, p50 and p99 per page kind, and the issue's targets: at 100k the first page
reaches at least 10% of the ceiling's req/s, and each page's p50 at 100k is at most
1.3x its p50 at 10k.

Backends: ``embedded`` (the default store, SQLite in a temp folder) and, when
``MONGO_URL`` is set, ``wire`` (that MongoDB-wire server, ``MONGO_DRIVER`` or motor;
sizes from ``--wire-sizes``, since FerretDB v1 sorts in Go: a sorted page takes about
1 s at 10k). Everything listens on loopback only; every phase is bounded by
``--seconds`` (plus at most one request in flight per client when it ends).
"""
import argparse
import asyncio
import datetime
import html
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.http_client import Connection, percentile  # noqa: E402

PASSWORD = "plum-harbour-velvet"
READER = "reader"
CATEGORIES = 20
AUTHORS = 5
BATCH = 5000
PAGE_KINDS = ["first", "published", "category", "deep"]
REQUEST_TIMEOUT = 120.0
BODY = ("Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor "
        "incididunt ut labore et dolore magna aliqua.")


def server_settings(url, workdir):
    from core.conf import load_settings
    return load_settings(
        "settings.base", environ={}, DATABASE_URL=url,
        MONGO_DRIVER=os.environ.get("MONGO_DRIVER", "motor"),
        VAR_DIR=Path(workdir) / "var", BCRYPT_ROUNDS=4, DEBUG=False,
        COOKIE_SECRET="bench-only-secret-" + "x" * 32)


# -- the children: the app, and the bare handler -------------------------------------------------

def serve(url, workdir):
    import tornado.netutil

    from core.app import make_app, serve as serve_app
    from core.conf import settings as global_settings
    settings = global_settings.configure(server_settings(url, workdir))
    sockets = tornado.netutil.bind_sockets(0, "127.0.0.1")
    app = make_app(settings)

    def ready():
        print(f"READY {sockets[0].getsockname()[1]}", flush=True)

    asyncio.run(serve_app(app, sockets, ready=ready))


def serve_ceiling():
    import tornado.httpserver
    import tornado.netutil
    import tornado.web

    class Tiny(tornado.web.RequestHandler):
        def get(self):
            self.write("<!doctype html><title>ok</title><p>ok</p>")

    async def run():
        sockets = tornado.netutil.bind_sockets(0, "127.0.0.1")
        server = tornado.httpserver.HTTPServer(tornado.web.Application([(r"/", Tiny)]))
        server.add_sockets(sockets)
        stop = asyncio.Event()
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
        print(f"READY {sockets[0].getsockname()[1]}", flush=True)
        await stop.wait()

    asyncio.run(run())


def stop(process, timeout=30):
    """Terminate a child server; kill it when it has not stopped after ``timeout`` s."""
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


class Child:
    """A server in a child process: ``with Child(args) as port:``; SIGTERM on exit."""

    def __init__(self, args):
        self.args = args

    def __enter__(self):
        self.process = subprocess.Popen(
            [sys.executable, __file__, *self.args], stdout=subprocess.PIPE, text=True,
            cwd=ROOT, env=dict(os.environ, PYTHONUNBUFFERED="1"))
        line = self.process.stdout.readline()
        if not line.startswith("READY "):
            self.__exit__()
            raise SystemExit(f"the server did not start: {line!r}")
        return int(line.split()[1])

    def __exit__(self, *exc):
        stop(self.process)


# -- seeding -------------------------------------------------------------------------------------

def list_page_article(i, categories, authors):
    """The fields of article ``i``: every 200th title about zebras, every other one
    published, categories and authors in turn, 37 s apart."""
    when = datetime.datetime(2020, 1, 1, tzinfo=datetime.timezone.utc) + \
        datetime.timedelta(seconds=37 * i)
    return dict(title=f"Article {i} about {'zebras' if i % 200 == 0 else 'cats'}", body=BODY,
                published=i % 2 == 0, category=categories[i % CATEGORIES].id,
                author=authors[i % AUTHORS].id, tags=["bench", f"t{i % 7}"],
                created=when, updated=when)


async def seed(url, workdir, size, fields=list_page_article, settings=None):
    """The reader, authors, categories and ``size`` articles (``fields(i, categories,
    authors)`` gives article ``i``; ``insert_many`` in batches) in an app made with
    ``settings`` (default: the served one's); returns one category's id (a filter value)."""
    from bson import ObjectId

    from core.app import make_app, shutdown, startup
    app = make_app(settings or server_settings(url, workdir))
    await startup(app)
    db = app.db
    try:
        User = app.registry.get_model("accounts.user")
        Category = app.registry.get_model("blog.category")
        Article = app.registry.get_model("blog.article")
        await User.create_user(READER, "reader@example.com", PASSWORD, db=db,
                               permissions={"blog.article": ["read"]})
        authors = [await User.create_user(f"author{n}", f"author{n}@example.com", None, db=db)
                   for n in range(AUTHORS)]
        categories = [await Category.create(name=f"Category {n:02d}", db=db)
                      for n in range(CATEGORIES)]
        collection = db[Article._meta.collection]
        for start in range(0, size, BATCH):
            await collection.insert_many([
                Article(id=ObjectId(), version=1, **fields(i, categories, authors)).to_bson()
                for i in range(start, min(size, start + BATCH))])
        return str(categories[7].id)
    finally:
        await shutdown(app)


async def drop(url, workdir):
    from core.db import connect
    db = connect(url, os.environ.get("MONGO_DRIVER", "motor"))
    try:
        await db.drop()
    finally:
        await db.close()


# -- the client: keep-alive HTTP/1.1 over asyncio streams ----------------------------------------

async def load(port, path, cookie, clients, seconds, check):
    """``clients`` connections GET ``path`` until ``seconds`` pass: (req/s, latencies ms)."""
    connections = [Connection(port, {"Cookie": cookie} if cookie else {}) for _ in range(clients)]
    for connection in connections:                    # warm up every connection
        status, body = await asyncio.wait_for(connection.get(path), REQUEST_TIMEOUT)
        check(status, body)
    latencies = []
    started = time.perf_counter()
    deadline = started + seconds

    async def worker(connection):
        while time.perf_counter() < deadline:
            t0 = time.perf_counter()
            status, body = await asyncio.wait_for(connection.get(path), REQUEST_TIMEOUT)
            latencies.append((time.perf_counter() - t0) * 1000)
            if status != 200:
                check(status, body)

    try:
        await asyncio.gather(*(worker(c) for c in connections))
    finally:
        for connection in connections:
            connection.close()
    elapsed = time.perf_counter() - started
    return len(latencies) / elapsed, latencies


def summary(rate, latencies):
    return {"n": len(latencies), "req/s": rate, "p50": statistics.median(latencies),
            "p99": percentile(latencies, 0.99)}


# -- one backend and size ------------------------------------------------------------------------

async def log_in(port):
    """The reader's cookies, as one ``Cookie`` header value, after the login form."""
    import tornado.httpclient
    client = tornado.httpclient.AsyncHTTPClient(force_instance=True)
    base = f"http://127.0.0.1:{port}"
    try:
        page = await client.fetch(base + "/admin/login/")
        xsrf = re.search(r"_xsrf=([^;]+)", page.headers["Set-Cookie"]).group(1)
        body = urllib.parse.urlencode({"username": READER, "password": PASSWORD, "_xsrf": xsrf})
        response = await client.fetch(base + "/admin/login/", method="POST", body=body,
                                      headers={"Cookie": f"_xsrf={xsrf}"},
                                      follow_redirects=False, raise_error=False)
        if response.code != 303:
            raise SystemExit(f"login answered {response.code}")
        cookies = {"_xsrf": xsrf}
        for line in response.headers.get_list("Set-Cookie"):
            name, _, rest = line.partition("=")
            cookies[name] = rest.split(";", 1)[0]
        return "; ".join(f"{k}={v}" for k, v in cookies.items())
    finally:
        client.close()


def rows_of(body):
    return len(re.findall(rb'<tr data-id="[0-9a-f]{24}">', body))


def list_check(kind):
    def check(status, body):
        if status != 200:
            raise SystemExit(f"{kind} page answered {status}: {body[:300]!r}")
        if rows_of(body) != 50:
            raise SystemExit(f"{kind} page shows {rows_of(body)} rows, not 50")
    return check


async def page_paths(port, cookie, category, deep):
    """The path of each page kind; the deep one by following ``next`` ``deep`` times."""
    connection = Connection(port, {"Cookie": cookie} if cookie else {})
    first = "/admin/blog/article/"
    paths = {"first": first, "published": first + "?published=true",
             "category": first + "?category=" + category}
    path = first
    try:
        for _ in range(deep):
            status, body = await asyncio.wait_for(connection.get(path), REQUEST_TIMEOUT)
            list_check("deep")(status, body)
            match = re.search(rb'<a href="([^"]*)" rel="next">', body)
            if not match:
                raise SystemExit(f"no next link on {path}")
            path = html.unescape(match.group(1).decode())
    finally:
        connection.close()
    paths["deep"] = path
    return paths


async def measure_site(port, category, args):
    cookie = await log_in(port)
    paths = await page_paths(port, cookie, category, args.deep)
    # untimed: the first reads after seeding pay for cold caches and the seed's WAL
    for kind in PAGE_KINDS:
        await load(port, paths[kind], cookie, args.clients, args.warmup, list_check(kind))
    results = {}
    for kind in PAGE_KINDS:
        rate, latencies = await load(port, paths[kind], cookie, args.clients, args.seconds,
                                     list_check(kind))
        results[kind] = summary(rate, latencies)
        print(f"  {kind:<10} {results[kind]['req/s']:8.1f} req/s  "
              f"p50 {results[kind]['p50']:8.2f} ms  p99 {results[kind]['p99']:8.2f} ms",
              flush=True)
    return results


def measure(backend, size, workdir, args):
    if backend == "embedded":
        url = f"embedded:{workdir}/list-{size}-{uuid.uuid4().hex[:6]}.sqlite3"
    else:
        url = f"{os.environ['MONGO_URL'].rstrip('/')}/bench_list_{uuid.uuid4().hex[:8]}"
    print(f"{backend} {size:,}: seeding ...", flush=True)
    started = time.perf_counter()
    category = asyncio.run(seed(url, workdir, size))
    print(f"{backend} {size:,}: seeded in {time.perf_counter() - started:.1f} s", flush=True)
    try:
        with Child(["--serve", url, "--workdir", workdir]) as port:
            return asyncio.run(measure_site(port, category, args))
    finally:
        if backend == "wire":
            asyncio.run(drop(url, workdir))


def measure_ceiling(args):
    def check(status, body):
        if status != 200 or b"ok" not in body:
            raise SystemExit(f"the bare handler answered {status}")
    with Child(["--ceiling"]) as port:
        return summary(*asyncio.run(load(port, "/", "", args.clients, args.seconds, check)))


# -- report --------------------------------------------------------------------------------------

def report(ceiling, results, args):
    print()
    print(f"list pages: {args.clients} concurrent keep-alive clients, {args.seconds:g} s per "
          f"page, {os.cpu_count()} CPUs; deep = after {args.deep} next links; 50 rows a page")
    head = f"{'backend':<10}{'size':>9}  {'page':<10}{'n':>7}{'req/s':>9}{'p50 ms':>9}" \
           f"{'p99 ms':>9}{'% ceil':>8}"
    print(head)
    print("-" * len(head))
    print(f"{'bare':<10}{'-':>9}  {'tiny':<10}{ceiling['n']:>7}{ceiling['req/s']:>9.1f}"
          f"{ceiling['p50']:>9.2f}{ceiling['p99']:>9.2f}{100:>7.0f}%")
    for (backend, size), pages in results.items():
        for kind, row in pages.items():
            share = 100 * row["req/s"] / ceiling["req/s"]
            print(f"{backend:<10}{size:>9,}  {kind:<10}{row['n']:>7}{row['req/s']:>9.1f}"
                  f"{row['p50']:>9.2f}{row['p99']:>9.2f}{share:>7.1f}%")
    print()
    verdicts = []
    for (backend, size), pages in results.items():
        if size == max(s for b, s in results if b == backend) and size >= 100_000:
            share = pages["first"]["req/s"] / ceiling["req/s"]
            ok = share >= 0.10
            verdicts.append(ok)
            print(f"target {backend} {size:,} first page >= 10% of the ceiling: "
                  f"{100 * share:.1f}% ({'met' if ok else 'MISSED'})")
    for backend in dict.fromkeys(b for b, _ in results):
        sizes = sorted(s for b, s in results if b == backend)
        if 10_000 in sizes and 100_000 in sizes:
            small, big = results[(backend, 10_000)], results[(backend, 100_000)]
            for kind in PAGE_KINDS:
                ratio = big[kind]["p50"] / small[kind]["p50"]
                ok = ratio <= 1.3
                verdicts.append(ok)
                print(f"target {backend} {kind} p50 100k / 10k <= 1.3: {ratio:.2f} "
                      f"({'met' if ok else 'MISSED'})")
    return verdicts


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--wire-sizes", default="10000",
                        help="sizes for the wire backend (FerretDB v1 is slow on big sorts)")
    parser.add_argument("--backends", default=None,
                        help="embedded,wire (default: embedded, and wire when MONGO_URL is set)")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--deep", type=int, default=20)
    parser.add_argument("--warmup", type=float, default=2.0,
                        help="untimed seconds per page kind before measuring")
    parser.add_argument("--serve", metavar="URL", help=argparse.SUPPRESS)
    parser.add_argument("--workdir", help=argparse.SUPPRESS)
    parser.add_argument("--ceiling", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        return serve(args.serve, args.workdir)
    if args.ceiling:
        return serve_ceiling()
    if not 1 <= args.clients <= 64 or not 0 < args.seconds <= 120:
        parser.error("--clients must be 1..64 and --seconds 0..120")

    backends = (args.backends or ("embedded,wire" if os.environ.get("MONGO_URL")
                                  else "embedded")).split(",")
    if "wire" in backends and not os.environ.get("MONGO_URL"):
        parser.error("the wire backend needs MONGO_URL")
    results = {}
    with tempfile.TemporaryDirectory(prefix="bastion-bench-list-") as workdir:
        print("bare Tornado handler (the ceiling) ...", flush=True)
        ceiling = measure_ceiling(args)
        print(f"  tiny       {ceiling['req/s']:8.1f} req/s  p50 {ceiling['p50']:8.2f} ms",
              flush=True)
        for backend in backends:
            sizes = args.wire_sizes if backend == "wire" else args.sizes
            for size in (int(s) for s in sizes.split(",") if s):
                results[(backend, size)] = measure(backend, size, workdir, args)
        print("bare Tornado handler again (the machine may have got busier) ...", flush=True)
        again = measure_ceiling(args)
        print(f"  tiny       {again['req/s']:8.1f} req/s  p50 {again['p50']:8.2f} ms",
              flush=True)
    if again["req/s"] > ceiling["req/s"]:
        ceiling = again
    verdicts = report(ceiling, results, args)
    return 0 if all(verdicts) else 1


if __name__ == "__main__":
    sys.exit(main())
