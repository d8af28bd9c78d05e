#!/usr/bin/env python3
"""Measure Python "embedded MongoDB look-alike" engines on an article-like workload.

Standalone: run it with an interpreter that has the peers installed, e.g.

    python3 -m venv /tmp/peers-venv
    /tmp/peers-venv/bin/pip install litemongo montydb nx-27017 pymongo
    /tmp/peers-venv/bin/python bench/peers.py --sizes 10000,100000

Engines (each skipped with a note when it is not importable):

* litemongo  -- ``litemongo.connect("<dir>?engine=sqlite")`` (vendored mongomock on SQLite files)
* montydb    -- ``set_storage(<dir>, storage="sqlite")`` + ``MontyClient(<dir>)``
* nx27017    -- the ``nx_27017`` wire-protocol server started as a subprocess on 127.0.0.1 on a
                free port, driven with ``pymongo.MongoClient``; always stopped at the end

Each (engine, size) pair runs in its own worker process (this same file with ``--worker``), so
memory is measured per pair and a runaway pair can be killed as a whole process group. Inside
the worker every timed call has a cap (SIGALRM); when a query goes over the cap it is reported
as ">cap" and the remaining queries for that engine/size are skipped. The parent also enforces a
hard wall-clock limit per worker, so the script always ends in bounded time.

Queries (timed as the median of --runs runs, in ms), after creating the indexes
[("category", 1), ("created", -1)] and [("created", 1)]:

* indexed page:  find({}).sort("created", -1).limit(50)
* filtered page: find({"category": "cat-7"}).sort("created", -1).limit(50)
* search page:   find({"title": {"$regex": re.escape("about zebra"), "$options": "i"}}).limit(50)
* capped count:  count_documents({"published": True}, limit=1000)

Every answer is checked against the expected result computed in Python from the same documents;
mismatches and other semantic differences (unique index not enforced, count ignoring its limit,
datetimes coming back naive) are printed as notes under the table.
"""

from __future__ import annotations

import argparse
import datetime
import importlib.metadata
import json
import os
import random
import re
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

ENGINES = ("litemongo", "montydb", "nx27017")
DIST_NAMES = {
    "litemongo": ("litemongo",),
    "montydb": ("montydb",),
    "nx27017": ("nx-27017", "neosqlite", "pymongo"),
}
QUERY_NAMES = ("indexed", "filtered", "search", "count")
COUNT_LIMIT = 1000
PAGE = 50
SEARCH_WORD = "zebra"
SEARCH_EVERY = 200  # 1 in 200 titles mention the search word
BASE_TIME = datetime.datetime(2020, 1, 1, tzinfo=datetime.timezone.utc)

WORDS = (
    "lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt ut "
    "labore et dolore magna aliqua enim ad minim veniam quis nostrud exercitation ullamco laboris "
    "nisi aliquip ex ea commodo consequat duis aute irure in reprehenderit voluptate velit esse "
    "cillum fugiat nulla pariatur excepteur sint occaecat cupidatat non proident sunt culpa qui "
    "officia deserunt mollit anim id est laborum"
).split()
TOPICS = (
    "python", "tornado", "mongodb", "sqlite", "indexes", "caching", "security", "forms",
    "templates", "admin", "permissions", "logging", "testing", "deployment", "backups",
    "migrations", "queues", "search", "uploads", "sessions", "gardening", "cooking", "travel",
)
CATEGORIES = tuple(f"cat-{k}" for k in range(20))


# --------------------------------------------------------------------------------------------
# data


def make_docs(n: int, seed: int = 27017) -> list[dict]:
    """Article-like documents. ``created`` is a random permutation of distinct instants, so
    insertion order says nothing about ``created`` order and sort results are unambiguous."""
    rng = random.Random(seed)
    order = list(range(n))
    rng.shuffle(order)
    docs = []
    for i in range(n):
        word = SEARCH_WORD if i % SEARCH_EVERY == SEARCH_EVERY // 2 else rng.choice(TOPICS)
        body_words = []
        while sum(len(w) + 1 for w in body_words) < 200:
            body_words.append(rng.choice(WORDS))
        docs.append(
            {
                "title": f"Article {i} about {word}",
                "body": " ".join(body_words)[:200],
                "published": rng.random() < 0.6,
                "category": rng.choice(CATEGORIES),
                "views": rng.randrange(100_000),
                "created": BASE_TIME + datetime.timedelta(seconds=order[i] * 60),
            }
        )
    return docs


def expected_answers(docs: list[dict]) -> dict:
    by_created = sorted(docs, key=lambda d: d["created"], reverse=True)
    pattern = re.compile(re.escape("about " + SEARCH_WORD), re.I)
    return {
        "indexed": [d["title"] for d in by_created[:PAGE]],
        "filtered": [d["title"] for d in by_created if d["category"] == "cat-7"][:PAGE],
        "search_total": sum(1 for d in docs if pattern.search(d["title"])),
        "count": min(COUNT_LIMIT, sum(1 for d in docs if d["published"] is True)),
        "count_uncapped": sum(1 for d in docs if d["published"] is True),
    }


# --------------------------------------------------------------------------------------------
# capped timing (worker side)


class CapExceeded(Exception):
    pass


_alarm_fired = False


def _on_alarm(signum, frame):  # noqa: ARG001
    global _alarm_fired
    _alarm_fired = True
    raise CapExceeded()


def capped_call(fn, cap_s: float):
    """Run fn() with a wall-clock cap. Returns (seconds, result); seconds is None when the cap
    was exceeded. A long C call only sees the alarm when it returns; the parent's hard limit
    covers that case. Other exceptions propagate."""
    global _alarm_fired
    _alarm_fired = False
    signal.signal(signal.SIGALRM, _on_alarm)
    signal.setitimer(signal.ITIMER_REAL, cap_s)
    t0 = time.perf_counter()
    try:
        result = fn()
        elapsed = time.perf_counter() - t0
    except CapExceeded:
        return None, None
    except Exception:
        # e.g. a driver wrapping the alarm into its own error, or a socket timeout
        if _alarm_fired or time.perf_counter() - t0 >= cap_s:
            return None, None
        raise
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
    if elapsed >= cap_s:
        return None, None
    return elapsed, result


# --------------------------------------------------------------------------------------------
# engines (worker side). Each opener returns (collection, scratch_collection, close_fn, info)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def open_litemongo(workdir: str, cap_s: float):  # noqa: ARG001
    import litemongo

    client = litemongo.connect(os.path.join(workdir, "lm") + "?engine=sqlite", tz_aware=True)
    db = client["bench"]
    return db["articles"], db["uniq"], client.close, "litemongo.connect('<dir>?engine=sqlite')"


def open_montydb(workdir: str, cap_s: float):  # noqa: ARG001
    from montydb import MontyClient, set_storage

    repo = os.path.join(workdir, "monty")
    set_storage(repo, storage="sqlite")
    client = MontyClient(repo, tz_aware=True)
    db = client["bench"]
    return (
        db["articles"],
        db["uniq"],
        client.close,
        "set_storage(<dir>, storage='sqlite'); MontyClient(<dir>, tz_aware=True)",
    )


def open_nx27017(workdir: str, cap_s: float):
    import nx_27017  # noqa: F401 -- fail early (ImportError) if it is not installed
    import pymongo

    port = free_port()
    log_path = os.path.join(workdir, "nx.log")
    cmd = [
        sys.executable, "-m", "nx_27017.nx_27017",
        "--host", "127.0.0.1", "-p", str(port),
        "--db", os.path.join(workdir, "nx.db"),
        "--log-file", log_path,
        "--pid-file", os.path.join(workdir, "nx.pid"),
    ]
    out = open(os.path.join(workdir, "nx.stdout"), "wb")
    proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, cwd=workdir)

    def stop():
        try:
            if client is not None:
                client.close()
        finally:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(10)
            out.close()

    client = None
    try:
        client = pymongo.MongoClient(
            "127.0.0.1",
            port,
            tz_aware=True,
            directConnection=True,
            serverSelectionTimeoutMS=1000,
            socketTimeoutMS=int(cap_s * 1000) + 5000,
        )
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"nx-27017 exited with {proc.returncode}; see {log_path}")
            try:
                client.admin.command("ping")
                break
            except pymongo.errors.PyMongoError:
                if time.monotonic() > deadline:
                    raise RuntimeError("nx-27017 did not answer ping within 60 s") from None
                time.sleep(0.2)
    except BaseException:
        stop()
        raise
    db = client["bench"]
    db["articles"].drop()
    db["uniq"].drop()
    info = f"subprocess `python -m nx_27017.nx_27017 --host 127.0.0.1 -p {port} --db <tmp>/nx.db`"
    info += " + pymongo.MongoClient(tz_aware=True, directConnection=True)"
    return db["articles"], db["uniq"], stop, info, proc.pid


OPENERS = {"litemongo": open_litemongo, "montydb": open_montydb, "nx27017": open_nx27017}


def _rss_mb(pid: int | None) -> float | None:
    """Peak RSS (VmHWM) of another process, Linux only."""
    if pid is None:
        return None
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def _self_peak_rss_mb() -> float:
    kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return kb / 1024 if sys.platform != "darwin" else kb / (1024 * 1024)


def run_worker(engine: str, n: int, runs: int, cap_s: float, insert_cap_s: float) -> dict:
    res: dict = {"engine": engine, "n": n, "notes": [], "times": {}, "runs_ms": {}}
    notes = res["notes"]

    def log(msg):
        print(f"[{engine} N={n}] {msg}", file=sys.stderr, flush=True)

    docs = make_docs(n)
    exp = expected_answers(docs)
    workdir = tempfile.mkdtemp(prefix=f"peers-{engine}-")
    close = None
    server_pid = None
    try:
        opened = OPENERS[engine](workdir, cap_s)
        if len(opened) == 5:
            coll, scratch, close, info, server_pid = opened
        else:
            coll, scratch, close, info = opened
        res["driven"] = info

        # --- insert
        log("insert_many ...")
        t, r = capped_call(lambda: coll.insert_many(docs), insert_cap_s)
        if t is None:
            res["times"]["insert_s"] = f">{insert_cap_s:g} s"
            notes.append(f"insert_many of {n} docs exceeded {insert_cap_s:g} s; nothing else ran")
            return res
        res["times"]["insert_s"] = t
        log(f"insert {t:.2f} s")
        stored = coll.count_documents({})
        if stored != n:
            notes.append(f"count_documents({{}}) after insert = {stored}, expected {n}")

        # --- indexes
        t_idx = 0.0
        for keys in ([("category", 1), ("created", -1)], [("created", 1)]):
            try:
                t, _ = capped_call(lambda: coll.create_index(keys), insert_cap_s)
            except Exception as e:  # noqa: BLE001
                notes.append(f"create_index({keys}) raised {type(e).__name__}: {e}")
                continue
            if t is None:
                res["times"]["index_s"] = f">{insert_cap_s:g} s"
                notes.append(f"create_index({keys}) exceeded {insert_cap_s:g} s; nothing else ran")
                return res
            t_idx += t
        res["times"]["index_s"] = t_idx
        try:
            res["index_information"] = sorted(coll.index_information())
        except Exception as e:  # noqa: BLE001
            res["index_information"] = f"{type(e).__name__}: {e}"
            notes.append(
                f"index_information() raised {type(e).__name__}: create_index may be a no-op"
            )
        log(f"indexes {t_idx:.2f} s: {res['index_information']}")

        # --- queries
        search_re = {"$regex": re.escape("about " + SEARCH_WORD), "$options": "i"}
        queries = {
            "indexed": lambda: list(coll.find({}).sort("created", -1).limit(PAGE)),
            "filtered": lambda: list(
                coll.find({"category": "cat-7"}).sort("created", -1).limit(PAGE)
            ),
            "search": lambda: list(coll.find({"title": search_re}).limit(PAGE)),
            "count": lambda: coll.count_documents({"published": True}, limit=COUNT_LIMIT),
        }
        skipped = False
        for name in QUERY_NAMES:
            if skipped:
                res["times"][name] = "skipped"
                continue
            samples = []
            last = None
            for _ in range(runs):
                try:
                    t, last = capped_call(queries[name], cap_s)
                except Exception as e:  # noqa: BLE001
                    notes.append(f"{name} query raised {type(e).__name__}: {e}")
                    samples = None
                    break
                if t is None:
                    samples = None
                    res["times"][name] = f">{cap_s:g} s"
                    notes.append(f"{name} query exceeded {cap_s:g} s; rest skipped")
                    skipped = True
                    break
                samples.append(t * 1000)
            if samples is None:
                res["times"].setdefault(name, "error")
                skipped = True
                continue
            res["times"][name] = statistics.median(samples)
            res["runs_ms"][name] = [round(s, 2) for s in samples]
            log(f"{name}: median {res['times'][name]:.2f} ms, runs {res['runs_ms'][name]}")
            check_answer(name, last, exp, notes, res)

        # --- semantics spot-check: does a unique index reject a duplicate?
        try:
            scratch.create_index([("k", 1)], unique=True)
            scratch.insert_one({"k": 1})
            try:
                scratch.insert_one({"k": 1})
                notes.append("unique index NOT enforced (second insert of k=1 accepted)")
                res["unique_enforced"] = False
            except Exception as e:  # noqa: BLE001
                res["unique_enforced"] = type(e).__name__
        except Exception as e:  # noqa: BLE001
            notes.append(f"unique-index check raised {type(e).__name__}: {e}")
        return res
    finally:
        res["client_peak_rss_mb"] = round(_self_peak_rss_mb(), 1)
        srv = _rss_mb(server_pid)
        if srv is not None:
            res["server_peak_rss_mb"] = round(srv, 1)
        if close is not None:
            try:
                close()
            except Exception as e:  # noqa: BLE001
                notes.append(f"close raised {type(e).__name__}: {e}")
        shutil.rmtree(workdir, ignore_errors=True)


def check_answer(name: str, got, exp: dict, notes: list, res: dict) -> None:
    if name in ("indexed", "filtered"):
        titles = [d.get("title") for d in got]
        if titles != exp[name]:
            same_set = sorted(titles) == sorted(exp[name])
            notes.append(
                f"{name} page WRONG: {len(titles)} docs, "
                + ("same docs, wrong order" if same_set else "different docs")
            )
        created = got[0].get("created") if got else None
        if isinstance(created, datetime.datetime):
            res["created_roundtrip"] = (
                "tz-aware" if created.tzinfo is not None else "naive (tzinfo dropped)"
            )
            if created.tzinfo is None:
                note = "datetimes come back naive despite tz_aware=True"
                if note not in notes:
                    notes.append(note)
        elif got:
            res["created_roundtrip"] = type(created).__name__
            notes.append(f"'created' comes back as {type(created).__name__}, not datetime")
    elif name == "search":
        want = min(PAGE, exp["search_total"])
        bad = [d.get("title") for d in got if SEARCH_WORD not in d.get("title", "").lower()]
        if len(got) != want or bad:
            notes.append(f"search page WRONG: {len(got)} docs (want {want}), "
                         f"{len(bad)} non-matching")
    elif name == "count":
        res["count_value"] = got
        if got == exp["count_uncapped"] and exp["count_uncapped"] != exp["count"]:
            notes.append(
                f"count_documents ignored limit={COUNT_LIMIT}: returned {got} (all matches)"
            )
        elif got != exp["count"]:
            notes.append(f"count_documents returned {got}, expected {exp['count']}")


# --------------------------------------------------------------------------------------------
# parent


def importable(engine: str) -> str | None:
    """None when importable, else the reason."""
    mods = {"litemongo": ("litemongo",), "montydb": ("montydb",),
            "nx27017": ("nx_27017", "pymongo")}
    for mod in mods[engine]:
        try:
            __import__(mod)
        except Exception as e:  # noqa: BLE001
            return f"{mod}: {type(e).__name__}: {e}"
    return None


def versions(engine: str) -> str:
    out = []
    for dist in DIST_NAMES[engine]:
        try:
            out.append(f"{dist} {importlib.metadata.version(dist)}")
        except importlib.metadata.PackageNotFoundError:
            out.append(f"{dist} ?")
    return ", ".join(out)


def run_pair(engine: str, n: int, args) -> dict:
    hard = args.insert_cap * 3 + args.cap * len(QUERY_NAMES) * args.runs + 180
    cmd = [
        sys.executable, os.path.abspath(__file__), "--worker", engine, str(n),
        "--runs", str(args.runs), "--cap", str(args.cap), "--insert-cap", str(args.insert_cap),
    ]
    # own session/process group so a hung worker and any server it started die together
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, start_new_session=True)
    try:
        out, _ = proc.communicate(timeout=hard)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        return {"engine": engine, "n": n, "times": {},
                "notes": [f"worker killed after hard limit {hard:g} s"]}
    for line in out.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT "):])
    return {"engine": engine, "n": n, "times": {},
            "notes": [f"worker exited {proc.returncode} without a result (see stderr above)"]}


def fmt(v, unit_digits: int) -> str:
    if isinstance(v, (int, float)):
        return f"{v:.{unit_digits}f}"
    return "-" if v is None else str(v)


def print_table(results: list[dict]) -> None:
    cols = [
        ("engine", 10), ("N", 8), ("insert s", 9), ("index s", 8), ("indexed page ms", 16),
        ("filtered page ms", 17), ("search page ms", 15), ("capped count ms", 16),
        ("peak RSS MB", 12),
    ]
    head = " | ".join(name.rjust(w) if i else name.ljust(w) for i, (name, w) in enumerate(cols))
    print(head)
    print("-+-".join("-" * w for _, w in cols))
    for r in results:
        t = r.get("times", {})
        rss = r.get("client_peak_rss_mb")
        if r.get("server_peak_rss_mb") is not None:
            rss = f"{rss:.0f}+{r['server_peak_rss_mb']:.0f}srv"
        cells = [
            r["engine"], str(r["n"]), fmt(t.get("insert_s"), 2), fmt(t.get("index_s"), 2),
            fmt(t.get("indexed"), 2), fmt(t.get("filtered"), 2), fmt(t.get("search"), 2),
            fmt(t.get("count"), 2), fmt(rss, 0),
        ]
        print(" | ".join(c.rjust(w) if i else c.ljust(w)
                         for i, (c, (_, w)) in enumerate(zip(cells, cols))))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="10000,100000", help="comma-separated N values")
    ap.add_argument("--engines", default=",".join(ENGINES),
                    help="comma-separated: " + ",".join(ENGINES))
    ap.add_argument("--runs", type=int, default=5, help="runs per query; the median is reported")
    ap.add_argument("--cap", type=float, default=30.0, help="per-query-run cap in seconds")
    ap.add_argument("--insert-cap", type=float, default=900.0,
                    help="cap in seconds for the bulk insert and for each create_index")
    ap.add_argument("--json", help="also write the raw results to this file")
    ap.add_argument("--worker", nargs=2, metavar=("ENGINE", "N"), help=argparse.SUPPRESS)
    args = ap.parse_args()

    if args.worker:
        engine, n = args.worker[0], int(args.worker[1])
        try:
            res = run_worker(engine, n, args.runs, args.cap, args.insert_cap)
        except Exception as e:  # noqa: BLE001
            res = {"engine": engine, "n": n, "times": {}, "notes": [f"{type(e).__name__}: {e}"]}
        print("RESULT " + json.dumps(res, default=str), flush=True)
        return 0

    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    for e in engines:
        if e not in ENGINES:
            ap.error(f"unknown engine {e!r}; known: {', '.join(ENGINES)}")

    print(f"python {sys.version.split()[0]} on {sys.platform}, {os.cpu_count()} CPUs; "
          f"runs={args.runs}, cap={args.cap:g} s, insert cap={args.insert_cap:g} s")
    available = []
    for e in engines:
        why = importable(e)
        if why:
            print(f"SKIP {e}: not importable ({why})")
        else:
            print(f"{e}: {versions(e)}")
            available.append(e)
    sys.stdout.flush()

    results = []
    for e in available:  # one engine at a time, one size at a time
        for n in sizes:
            t0 = time.monotonic()
            r = run_pair(e, n, args)
            r["wall_s"] = round(time.monotonic() - t0, 1)
            results.append(r)
            print(f"done {e} N={n} in {r['wall_s']} s: {json.dumps(r.get('times'), default=str)}",
                  flush=True)

    print()
    print_table(results)
    print()
    for r in results:
        extra = []
        if r.get("created_roundtrip"):
            extra.append(f"created -> {r['created_roundtrip']}")
        if "count_value" in r:
            extra.append(f"count -> {r['count_value']}")
        if "unique_enforced" in r:
            extra.append(f"unique dup -> {r['unique_enforced'] or 'accepted'}")
        if r.get("index_information") is not None:
            extra.append(f"indexes -> {r['index_information']}")
        print(f"{r['engine']} N={r['n']}: " + ("; ".join(extra) or "(no details)"))
        for note in r.get("notes", []):
            print(f"    NOTE: {note}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1, default=str)
    return 0


if __name__ == "__main__":
    sys.exit(main())
