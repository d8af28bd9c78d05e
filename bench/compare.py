"""Bastion's admin side by side with Django 5.2's, on the same data and the same machine.

    python bench/compare.py [--sizes 10k,100k] [--seconds 10] [--connections 10]
                            [--rounds 2] [--cache-dir DIR] [--client wrk|python]

For each size, both sites get the same articles (titles, bodies, 20 categories, a
published flag, 5 authors; one title in 200 says "zebras", one in 5,000 "narwhal")
and a staff user who may only view articles. Bastion runs as one process
(``runserver``'s app, embedded store), Django 5.2's admin on one gunicorn sync
worker (SQLite), each in its own child process on 127.0.0.1. Django lives in its
own virtualenv under ``--cache-dir`` (``~/.cache/bastion-bench`` by default),
created on the first run with ``pip install "django>=5.2,<5.3" gunicorn``.

Each page kind is loaded by ``wrk`` (``-t2 -c<connections>``; the Debian package
``wrk``; ``--client python`` uses the project's own keep-alive client instead)
for ``--seconds``, interleaved A B A B ... for ``--rounds`` rounds, after one
untimed warm-up of each:

* ``list``     the article list, newest first (50 rows)
* ``search``   search "zebras" and filter published
* ``rare``     search "narwhal" (a word in one title in 5,000)
* ``deep``     the page 100 pages in, or half-way for a short list (Bastion: its keyset
               cursor; Django: ``?p=101``)
* ``detail``   one article (Django: its read-only change page)
* ``ceiling``  a bare Tornado handler (the machine's and client's limit)

Prints, per size and page: req/s, p50 and p99 (ms) and the server's CPU ms per
request (from /proc, the server's whole process tree) for each site, the ratio of
Bastion's req/s to Django's and Bastion's share of the ceiling. Figures vary with
the machine's other load; the interleaving and the ratios are what to read.
"""
import argparse
import asyncio
import datetime
import html
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.http_client import Connection, percentile  # noqa: E402
from bench.list_page import AUTHORS, BATCH, CATEGORIES, PASSWORD, READER  # noqa: E402
from bench.list_page import Child as _ListPageChild  # noqa: E402
from bench.list_page import seed, stop  # noqa: E402

DEEP_PAGES = 100
KINDS = ["list", "search", "rare", "deep", "detail"]
BODY = ("Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor "
        "incididunt ut labore et dolore magna aliqua.")
BASE_TIME = datetime.datetime(2020, 1, 1, tzinfo=datetime.timezone.utc)
DJANGO_REQUIREMENT = "django>=5.2,<5.3"


def article(i):
    """The same article ``i`` for both sites: (title, body, published, category, author,
    created)."""
    title = f"Article {i} about {'zebras' if i % 200 == 0 else 'cats'}"
    if i % 5000 == 123:
        title += " and a narwhal"
    return (title, BODY, i % 2 == 0, i % CATEGORIES, i % AUTHORS,
            BASE_TIME + datetime.timedelta(seconds=37 * i))


def parse_size(text):
    text = text.strip().lower()
    scale = {"k": 1000, "m": 1000_000}.get(text[-1:], 1)
    return int(float(text.rstrip("km")) * scale)


# -- Bastion -------------------------------------------------------------------------------------

def bastion_settings(url, workdir):
    from core.conf import load_settings
    return load_settings(
        "settings.base", environ={}, DATABASE_URL=url, VAR_DIR=Path(workdir) / "var",
        BCRYPT_ROUNDS=4, DEBUG=False, COOKIE_SECRET="bench-only-secret-" + "x" * 32)


def compare_article(i, categories, authors):
    """Article ``i`` as Django gets it too (``article``)."""
    title, body, published, category, author, created = article(i)
    return dict(title=title, body=body, published=published, category=categories[category].id,
                author=authors[author].id, created=created, updated=created)


async def seed_bastion(url, workdir, size):
    """Users, categories and ``size`` articles (``insert_many`` in batches)."""
    await seed(url, workdir, size, fields=compare_article,
               settings=bastion_settings(url, workdir))


def serve_bastion(url, workdir):
    import tornado.netutil

    from core.app import make_app, serve
    from core.conf import settings as global_settings
    settings = global_settings.configure(bastion_settings(url, workdir))
    sockets = tornado.netutil.bind_sockets(0, "127.0.0.1")
    app = make_app(settings)

    def ready():
        print(f"READY {sockets[0].getsockname()[1]}", flush=True)
    asyncio.run(serve(app, sockets, ready=ready))


class Child(_ListPageChild):
    """A server child process of this script: ``with Child(args) as port``; ``pid``."""

    def __init__(self, args, command=None):
        super().__init__(args)
        self.command = command

    def __enter__(self):
        command = self.command or [sys.executable, __file__, *self.args]
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, cwd=ROOT,
                                        env=dict(os.environ, PYTHONUNBUFFERED="1"))
        line = self.process.stdout.readline()
        if not line.startswith("READY "):
            self.__exit__()
            raise SystemExit(f"the server did not start: {line!r}")
        self.pid = self.process.pid
        return int(line.split()[1])


async def bastion_login(port):
    """The reader's ``Cookie`` header after Bastion's login form."""
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
            raise SystemExit(f"Bastion's login answered {response.code}")
        return cookie_header({"_xsrf": xsrf}, response.headers.get_list("Set-Cookie"))
    finally:
        client.close()


def cookie_header(cookies, set_cookie_lines):
    for line in set_cookie_lines:
        name, _, rest = line.partition("=")
        cookies[name.strip()] = rest.split(";", 1)[0]
    return "; ".join(f"{k}={v}" for k, v in cookies.items())


def deep_pages(size):
    """How many pages in the deep page is: ``DEEP_PAGES``, or half the list if shorter."""
    return max(1, min(DEEP_PAGES, size // 100))


async def bastion_paths(port, cookie, size):
    first = "/admin/blog/article/"
    connection = Connection(port, {"Cookie": cookie})
    try:
        path = first
        for _ in range(deep_pages(size)):
            status, body = await connection.get(path)
            match = re.search(rb'<a href="([^"]*)" rel="next">', body)
            if status != 200 or not match:
                raise SystemExit(f"Bastion: no next page after {path} ({status})")
            path = html.unescape(match.group(1).decode())
        status, body = await connection.get(first)
        row = re.search(rb'<tr data-id="([0-9a-f]{24})">', body).group(1).decode()
    finally:
        connection.close()
    return {"list": first, "search": first + "?q=zebras&published=true",
            "rare": first + "?q=narwhal", "deep": path, "detail": f"{first}{row}/"}


# -- Django --------------------------------------------------------------------------------------

DJANGO_SETTINGS = """
from pathlib import Path
BASE_DIR = Path(__file__).resolve().parent
SECRET_KEY = "bench-only-" + "x" * 40
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
INSTALLED_APPS = ["django.contrib.admin", "django.contrib.auth", "django.contrib.contenttypes",
                  "django.contrib.sessions", "django.contrib.messages", "bench"]
MIDDLEWARE = ["django.middleware.security.SecurityMiddleware",
              "django.contrib.sessions.middleware.SessionMiddleware",
              "django.middleware.common.CommonMiddleware",
              "django.middleware.csrf.CsrfViewMiddleware",
              "django.contrib.auth.middleware.AuthenticationMiddleware",
              "django.contrib.messages.middleware.MessageMiddleware",
              "django.middleware.clickjacking.XFrameOptionsMiddleware"]
ROOT_URLCONF = "benchsite_urls"
TEMPLATES = [{"BACKEND": "django.template.backends.django.DjangoTemplates", "DIRS": [],
              "APP_DIRS": True, "OPTIONS": {"context_processors": [
                  "django.template.context_processors.request",
                  "django.contrib.auth.context_processors.auth",
                  "django.contrib.messages.context_processors.messages"]}}]
WSGI_APPLICATION = "benchsite_wsgi.application"
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": DB_PATH}}
USE_TZ = True
STATIC_URL = "static/"
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
"""

DJANGO_FILES = {
    "benchsite_urls.py": """
from django.contrib import admin
from django.urls import path
urlpatterns = [path("admin/", admin.site.urls)]
""",
    "benchsite_wsgi.py": """
import os
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "benchsite_settings")
from django.core.wsgi import get_wsgi_application
application = get_wsgi_application()
""",
    "bench/__init__.py": "",
    "bench/migrations/__init__.py": "",
    "bench/models.py": """
from django.conf import settings
from django.db import models


class Category(models.Model):
    name = models.CharField(max_length=80, unique=True)

    def __str__(self):
        return self.name


class Article(models.Model):
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    published = models.BooleanField(default=False, db_index=True)
    category = models.ForeignKey(Category, null=True, on_delete=models.SET_NULL)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL)
    created = models.DateTimeField(db_index=True)
    updated = models.DateTimeField()

    class Meta:
        ordering = ["-created"]
        indexes = [models.Index(fields=["category", "-created"]),
                   models.Index(fields=["published", "-created"])]

    def __str__(self):
        return self.title
""",
    "bench/admin.py": """
from django.contrib import admin
from .models import Article, Category


@admin.register(Article)
class ArticleAdmin(admin.ModelAdmin):
    list_display = ["title", "category", "author", "published", "created"]
    search_fields = ["title", "body"]
    list_filter = ["published", "category"]
    list_per_page = 50


admin.site.register(Category)
""",
    "seed.py": """
import datetime, json, os, sys
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "benchsite_settings")
import django
django.setup()
from django.contrib.auth.models import Permission, User
from django.core.management import call_command
from bench.models import Article, Category
call_command("migrate", verbosity=0)
spec = json.loads(sys.argv[1])
reader = User.objects.create_user(spec["reader"], "reader@example.com", spec["password"],
                                  is_staff=True)
reader.user_permissions.add(Permission.objects.get(codename="view_article"))
authors = [User.objects.create_user(f"author{n}", f"author{n}@example.com")
           for n in range(spec["authors"])]
categories = [Category.objects.create(name=f"Category {n:02d}")
              for n in range(spec["categories"])]
for line in sys.stdin:
    rows = json.loads(line)
    Article.objects.bulk_create([Article(
        title=t, body=b, published=p, category=categories[c], author=authors[a],
        created=datetime.datetime.fromisoformat(w), updated=datetime.datetime.fromisoformat(w))
        for t, b, p, c, a, w in rows])
print("seeded", Article.objects.count())
""",
}


def django_python(cache_dir):
    """The Django venv's python (created with Django 5.2 and gunicorn on first use)."""
    venv = Path(cache_dir) / "django-5.2-venv"
    python = venv / "bin" / "python"
    if not (venv / "bin" / "gunicorn").exists():
        print(f"creating {venv} (pip install {DJANGO_REQUIREMENT} gunicorn) ...", flush=True)
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", DJANGO_REQUIREMENT,
                        "gunicorn"], check=True)
    return python


def django_project(workdir, db_path):
    root = Path(workdir) / "django"
    for name, text in DJANGO_FILES.items():
        target = root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(textwrap.dedent(text).lstrip())
    (root / "benchsite_settings.py").write_text(
        f"DB_PATH = {str(db_path)!r}\n" + DJANGO_SETTINGS)
    return root


def seed_django(python, root, size):
    env = dict(os.environ, PYTHONPATH=str(root))
    subprocess.run([str(python), "manage_makemigrations.py"], cwd=root, env=env, check=False,
                   capture_output=True)
    subprocess.run([str(python), "-c", "import os, django; "
                    "os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'benchsite_settings'); "
                    "django.setup(); from django.core.management import call_command; "
                    "call_command('makemigrations', 'bench', verbosity=0)"],
                   cwd=root, env=env, check=True)
    spec = {"reader": READER, "password": PASSWORD, "authors": AUTHORS,
            "categories": CATEGORIES}
    seeder = subprocess.Popen([str(python), "seed.py", json.dumps(spec)], cwd=root, env=env,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    for start in range(0, size, BATCH):
        rows = []
        for i in range(start, min(size, start + BATCH)):
            title, body, published, category, author, created = article(i)
            rows.append([title, body, published, category, author, created.isoformat()])
        seeder.stdin.write(json.dumps(rows) + "\n")
    seeder.stdin.close()
    out = seeder.stdout.read()
    if seeder.wait() != 0 or "seeded" not in out:
        raise SystemExit(f"seeding Django failed: {out!r}")


class DjangoChild:
    """gunicorn (one sync worker) serving the project in ``root``, in a child process:
    ``with DjangoChild(python, root) as port``; ``pid`` is gunicorn's master."""

    def __init__(self, python, root):
        self.gunicorn = Path(python).parent / "gunicorn"
        self.root = root

    def __enter__(self):
        import urllib.request
        self.port = free_port()
        command = [str(self.gunicorn), "-w", "1", "-k", "sync", "-b", f"127.0.0.1:{self.port}",
                   "--log-level", "warning", "--chdir", str(self.root),
                   "benchsite_wsgi:application"]
        env = dict(os.environ, PYTHONPATH=str(self.root))
        self.process = subprocess.Popen(command, env=env, cwd=self.root,
                                        stdout=subprocess.DEVNULL)
        self.pid = self.process.pid
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and self.process.poll() is None:
            try:
                page = urllib.request.urlopen(f"http://127.0.0.1:{self.port}/admin/login/",
                                              timeout=5).read()
                if b"csrfmiddlewaretoken" in page:
                    return self.port
            except OSError:
                pass
            time.sleep(0.2)
        self.__exit__()
        raise SystemExit("gunicorn did not start")

    def __exit__(self, *exc):
        stop(self.process)


def free_port():
    import socket
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def django_login(port):
    """The reader's ``Cookie`` header after Django's admin login form."""
    import http.cookiejar
    import urllib.request
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    base = f"http://127.0.0.1:{port}"
    page = opener.open(base + "/admin/login/").read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    body = urllib.parse.urlencode({"username": READER, "password": PASSWORD,
                                   "csrfmiddlewaretoken": token,
                                   "next": "/admin/"}).encode()
    opener.open(urllib.request.Request(base + "/admin/login/?next=/admin/", data=body))
    cookies = {cookie.name: cookie.value for cookie in jar}
    if "sessionid" not in cookies:
        raise SystemExit("Django's login failed")
    return "; ".join(f"{k}={v}" for k, v in cookies.items())


def django_paths(port, cookie, size):
    import urllib.request
    first = "/admin/bench/article/"
    request = urllib.request.Request(f"http://127.0.0.1:{port}{first}",
                                     headers={"Cookie": cookie})
    body = urllib.request.urlopen(request).read().decode()
    row = re.search(r'href="/admin/bench/article/(\d+)/change/', body).group(1)
    return {"list": first, "search": first + "?q=zebras&published__exact=1",
            "rare": first + "?q=narwhal", "deep": f"{first}?p={deep_pages(size) + 1}",
            "detail": f"{first}{row}/change/"}


# -- load and measure ----------------------------------------------------------------------------

def tree_cpu_seconds(pid):
    """User + system CPU seconds of ``pid`` and its children (from /proc)."""
    total, ticks = 0.0, os.sysconf("SC_CLK_TCK")
    pids = [pid]
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        pids += [int(c) for c in children]
    except OSError:
        pass
    for each in pids:
        try:
            fields = Path(f"/proc/{each}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / ticks
    return total


WRK_LATENCY = re.compile(r"^\s*(50|99)%\s+([\d.]+)(us|ms|s)\s*$", re.M)


def run_wrk(port, path, cookie, seconds, connections):
    command = ["wrk", f"-t{min(2, connections)}", f"-c{connections}",
               f"-d{max(1, round(seconds))}s", "--latency", "--timeout", "30s",
               f"http://127.0.0.1:{port}{path}"]
    if cookie:
        command[1:1] = ["-H", f"Cookie: {cookie}"]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if bad:
        raise SystemExit(f"{path}: {bad.group(1)} error responses\n{out}")
    unit = {"us": 0.001, "ms": 1.0, "s": 1000.0}
    latency = {p: float(v) * unit[u] for p, v, u in WRK_LATENCY.findall(out)}
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    return requests, rate, latency["50"], latency["99"]


def run_python_client(port, path, cookie, seconds, connections):
    async def go():
        conns = [Connection(port, {"Cookie": cookie} if cookie else {})
                 for _ in range(connections)]
        latencies, deadline = [], time.perf_counter() + seconds
        started = time.perf_counter()

        async def worker(connection):
            while time.perf_counter() < deadline:
                t0 = time.perf_counter()
                status, body = await connection.get(path)
                if status != 200:
                    raise SystemExit(f"{path} answered {status}")
                latencies.append((time.perf_counter() - t0) * 1000)
        try:
            await asyncio.gather(*(worker(c) for c in conns))
        finally:
            for c in conns:
                c.close()
        return latencies, time.perf_counter() - started
    latencies, elapsed = asyncio.run(go())
    return (len(latencies), len(latencies) / elapsed, statistics.median(latencies),
            percentile(latencies, 0.99))


def measure(server, port, path, cookie, args, seconds=None):
    """``{"req/s", "p50", "p99", "cpu ms/req"}`` of one load run against ``server``."""
    drive = run_wrk if args.client == "wrk" else run_python_client
    cpu = tree_cpu_seconds(server.pid)
    requests, rate, p50, p99 = drive(port, path, cookie, seconds or args.seconds,
                                     args.connections)
    cpu = tree_cpu_seconds(server.pid) - cpu
    return {"req/s": rate, "p50": p50, "p99": p99,
            "cpu": cpu * 1000 / requests if requests else float("nan")}


def check_page(port, path, cookie, expect):
    import urllib.request
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}",
                                     headers={"Cookie": cookie})
    body = urllib.request.urlopen(request, timeout=120).read().decode()
    if expect not in body:
        raise SystemExit(f"{path} does not show {expect!r}")


def combine(runs):
    return {key: statistics.median(run[key] for run in runs) for key in runs[0]}


def compare_size(size, args, python):
    with tempfile.TemporaryDirectory(prefix="bastion-compare-") as workdir:
        url = f"embedded:{workdir}/bastion.sqlite3"
        print(f"\n== {size:,} articles: seeding Bastion ...", flush=True)
        started = time.perf_counter()
        asyncio.run(seed_bastion(url, workdir, size))
        bastion_seed = time.perf_counter() - started
        print(f"   seeding Django ... (Bastion took {bastion_seed:.1f} s)", flush=True)
        root = django_project(workdir, Path(workdir) / "django.sqlite3")
        started = time.perf_counter()
        seed_django(python, root, size)
        django_seed = time.perf_counter() - started
        sizes = (os.path.getsize(f"{workdir}/bastion.sqlite3"),
                 os.path.getsize(f"{workdir}/django.sqlite3"))
        print(f"   Django took {django_seed:.1f} s; files: Bastion {sizes[0] / 1e6:.1f} MB, "
              f"Django {sizes[1] / 1e6:.1f} MB", flush=True)
        ceiling = Child(["--ceiling"])
        bastion = Child(["--serve", url, "--workdir", workdir])
        django = DjangoChild(python, root)
        with ceiling as ceiling_port, bastion as bastion_port, django as django_port:
            b_cookie = asyncio.run(bastion_login(bastion_port))
            d_cookie = django_login(django_port)
            b_paths = asyncio.run(bastion_paths(bastion_port, b_cookie, size))
            d_paths = django_paths(django_port, d_cookie, size)
            for kind in ("rare",):
                check_page(bastion_port, b_paths[kind], b_cookie, "narwhal")
                check_page(django_port, d_paths[kind], d_cookie, "narwhal")
            results = {}
            for kind in KINDS:
                for server, port, paths, cookie in ((bastion, bastion_port, b_paths, b_cookie),
                                                    (django, django_port, d_paths, d_cookie)):
                    measure(server, port, paths[kind], cookie, args, seconds=1)   # warm-up
                runs = {"bastion": [], "django": []}
                for _ in range(args.rounds):
                    runs["bastion"].append(measure(bastion, bastion_port, b_paths[kind],
                                                   b_cookie, args))
                    runs["django"].append(measure(django, django_port, d_paths[kind],
                                                  d_cookie, args))
                results[kind] = {name: combine(r) for name, r in runs.items()}
                print_row(kind, results[kind], None)
            results["ceiling"] = {"bastion": combine([
                measure(ceiling, ceiling_port, "/", "", args) for _ in range(args.rounds)])}
    return {"results": results, "seed": (bastion_seed, django_seed), "bytes": sizes}


def ratio(bastion, django):
    return bastion["req/s"] / django["req/s"] if django["req/s"] else float("inf")


def print_row(kind, row, ceiling):
    b, d = row["bastion"], row.get("django")
    text = (f"   {kind:<8} Bastion {b['req/s']:8.1f} req/s p50 {b['p50']:7.1f} p99 "
            f"{b['p99']:7.1f} ms cpu {b['cpu']:6.2f} ms/req")
    if d:
        text += (f" | Django {d['req/s']:7.1f} req/s p50 {d['p50']:7.1f} p99 {d['p99']:7.1f} "
                 f"ms cpu {d['cpu']:6.2f} ms/req | x{ratio(b, d):.2f}")
    if ceiling:
        text += f" | {100 * b['req/s'] / ceiling:.1f}% of ceiling"
    print(text, flush=True)


def report(all_results, args):
    print(f"\nSummary (wrk -t2 -c{args.connections}, {args.seconds:g} s per run, "
          f"{args.rounds} interleaved rounds, medians; this machine: {os.cpu_count()} CPUs, "
          "shared, so absolute figures are noisy - read the ratios)")
    header = (f"{'size':>9} {'page':<8} {'Bastion/s':>10} {'Django/s':>9} {'ratio':>7} "
              f"{'%ceil':>6} {'B p50':>7} {'B p99':>7} {'D p50':>7} {'D p99':>7} "
              f"{'B cpu':>6} {'D cpu':>6}")
    print(header)
    for size, outcome in all_results.items():
        results = outcome["results"]
        ceiling = results["ceiling"]["bastion"]["req/s"]
        for kind in KINDS:
            b, d = results[kind]["bastion"], results[kind]["django"]
            print(f"{size:>9,} {kind:<8} {b['req/s']:10.1f} {d['req/s']:9.1f} "
                  f"{ratio(b, d):6.2f}x {100 * b['req/s'] / ceiling:5.1f}% "
                  f"{b['p50']:7.1f} {b['p99']:7.1f} {d['p50']:7.1f} {d['p99']:7.1f} "
                  f"{b['cpu']:6.2f} {d['cpu']:6.2f}")
        print(f"{size:>9,} {'ceiling':<8} {ceiling:10.1f}  (bare Tornado handler)")
        (bs, ds), (bb, db) = outcome["seed"], outcome["bytes"]
        print(f"{size:>9,} storage  Bastion {bb / 1e6:.1f} MB in {bs:.1f} s, Django "
              f"{db / 1e6:.1f} MB in {ds:.1f} s ({bb / db:.2f}x bytes, {bs / ds:.2f}x time)")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10k,100k")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--connections", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--client", choices=("wrk", "python"), default=None)
    parser.add_argument("--cache-dir", default=os.environ.get(
        "BASTION_BENCH_CACHE", str(Path.home() / ".cache" / "bastion-bench")))
    parser.add_argument("--serve", metavar="URL", help=argparse.SUPPRESS)
    parser.add_argument("--workdir", help=argparse.SUPPRESS)
    parser.add_argument("--ceiling", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        return serve_bastion(args.serve, args.workdir)
    if args.ceiling:
        from bench.list_page import serve_ceiling
        return serve_ceiling()
    if not 1 <= args.connections <= 256 or not 0 < args.seconds <= 300 or args.rounds < 1:
        parser.error("--connections 1..256, --seconds 0..300, --rounds >= 1")
    if args.client is None:
        args.client = "wrk" if shutil.which("wrk") else "python"
        if args.client == "python":
            print("wrk not found (apt-get install wrk): using the project's own client",
                  flush=True)
    sizes = [parse_size(s) for s in args.sizes.split(",") if s.strip()]
    python = django_python(args.cache_dir)
    all_results = {}
    for size in sizes:
        all_results[size] = compare_size(size, args, python)
    report(all_results, args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
