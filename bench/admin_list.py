"""Admin list page benchmark: is a deep page as fast as the first one?

    python bench/admin_list.py [--articles 100000] [--pages 40] [--per-page 50]

Serves the app in this process (embedded database in a temp folder, the blog
app), seeds ``--articles`` articles with ``insert_many``, logs in as a
superuser and times over HTTP:

* the first list page (estimated count);
* every page while following "Next" links ``--pages`` times (keyset cursors):
  the first and last of them, and their p50;
* a filtered page (``?published=1``: capped count, "1,000+");
* a searched page (``?q=...``: a regex over title and body, capped count).

Offset pagination would make the last figure grow with the page number; keyset
pages should stay flat. They do when an index covers the whole sort, ``_id``
tie-breaker included (``--id-index`` adds ``(created -1, _id -1)``); with only
``(created -1)`` every page after the first sorts the rows past the cursor.
Measured on the embedded store (SQLite 3.40): with ``--id-index`` at 20,000
articles the pages are flat (~20-40 ms); at 100,000 a page near the start still
costs ~100-300 ms, because SQLite answers the range filter on the expression
index with a temp B-tree sort (``EXPLAIN QUERY PLAN``: "USE TEMP B-TREE FOR
ORDER BY") while the unfiltered first page walks the index. Figures are only as
quiet as the machine.
"""
import argparse
import asyncio
import datetime
import html
import re
import statistics
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PASSWORD = "plum-harbour-velvet"


class Client:
    def __init__(self, port):
        import tornado.httpclient
        self.port = port
        self.http = tornado.httpclient.AsyncHTTPClient(force_instance=True)
        self.cookies = {}

    async def fetch(self, path, method="GET", form=None):
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        body = urllib.parse.urlencode(form) if form is not None else None
        started = time.perf_counter()
        response = await self.http.fetch(
            f"http://127.0.0.1:{self.port}{path}", method=method, body=body, headers=headers,
            raise_error=False, follow_redirects=False)
        elapsed = time.perf_counter() - started
        for line in response.headers.get_list("Set-Cookie"):
            name, _, rest = line.partition("=")
            self.cookies[name] = rest.split(";", 1)[0]
        return response, elapsed


def next_link(text):
    match = re.search(r'<a href="([^"]*)" rel="next">', text)
    return html.unescape(match.group(1)) if match else None


def ms(seconds):
    return f"{seconds * 1000:7.1f} ms"


async def main(args):
    import tornado.testing

    from core.app import make_app, make_server, shutdown, startup
    from core.conf import load_settings

    with tempfile.TemporaryDirectory() as workdir:
        settings = load_settings(
            "settings.base", environ={}, DATABASE_URL=f"embedded:{workdir}/bench.sqlite3",
            VAR_DIR=Path(workdir) / "var", INSTALLED_APPS=["apps.accounts", "apps.blog"],
            BCRYPT_ROUNDS=4, COOKIE_SECRET="bench-only-secret-" + "x" * 32, DEBUG=False)
        app = make_app(settings)
        await startup(app)
        Article = app.registry.get_model("blog.article")
        Category = app.registry.get_model("blog.category")
        User = app.registry.get_model("accounts.user")
        await User.create_user("bench", "bench@example.com", PASSWORD, db=app.db,
                               is_superuser=True)
        categories = [await Category.create(name=f"Category {i}", db=app.db)
                      for i in range(20)]

        print(f"seeding {args.articles:,} articles ...", flush=True)
        started = time.perf_counter()
        base = datetime.datetime(2020, 1, 1, tzinfo=datetime.timezone.utc)
        collection = Article.get_collection(app.db)
        if args.id_index:
            await collection.create_index([("created", -1), ("_id", -1)])
        batch = []
        for i in range(args.articles):
            created = base + datetime.timedelta(seconds=i // 3)       # ties on purpose
            batch.append({"title": f"Article {i}", "body": f"Body of article {i}",
                          "published": i % 2 == 0, "category": categories[i % 20].id,
                          "author": None, "tags": [], "created": created, "updated": created,
                          "version": 1})
            if len(batch) == 5000:
                await collection.insert_many(batch)
                batch = []
        if batch:
            await collection.insert_many(batch)
        print(f"seeded in {time.perf_counter() - started:.1f} s")

        sock, port = tornado.testing.bind_unused_port()
        server = make_server(app)
        server.add_sockets([sock])
        client = Client(port)
        try:
            await client.fetch("/admin/login/")
            await client.fetch("/admin/login/", "POST", {
                "username": "bench", "password": PASSWORD, "_xsrf": client.cookies["_xsrf"]})
            prefix = "/admin/blog/article/"
            await client.fetch(f"{prefix}?per_page={args.per_page}")              # warm up
            response, first = await client.fetch(f"{prefix}?per_page={args.per_page}")
            assert response.code == 200, response.code
            timings = []
            url = next_link(response.body.decode())
            for _ in range(args.pages):
                response, elapsed = await client.fetch(url)
                assert response.code == 200, response.code
                timings.append(elapsed)
                url = next_link(response.body.decode())
                if url is None:
                    break
            response, filtered = await client.fetch(f"{prefix}?published=1")
            capped = "1,000+" in response.body.decode()
            response, searched = await client.fetch(f"{prefix}?q=article+12345")
            print(f"first page (estimated count)      {ms(first)}")
            print(f"next pages: page 2                {ms(timings[0])}")
            print(f"            page {len(timings) + 1:<4}              {ms(timings[-1])}")
            print(f"            p50 of {len(timings)} pages          "
                  f"{ms(statistics.median(timings))}")
            print(f"filtered page (capped count{', 1,000+' if capped else ''}) {ms(filtered)}")
            print(f"searched page (regex, capped)      {ms(searched)}")
            print(f"deep/first ratio                   {timings[-1] / first:7.2f}")
        finally:
            client.http.close()
            server.stop()
            await server.close_all_connections()
            await shutdown(app)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--pages", type=int, default=40)
    parser.add_argument("--per-page", type=int, default=50)
    parser.add_argument("--id-index", action="store_true",
                        help="add the index the list's sort uses (created, _id) first")
    asyncio.run(main(parser.parse_args()))
