"""Helpers for the dumpdata/loaddata tests: subprocess runs, seeding, raw reads."""
import datetime
import io
import json
import sqlite3
import subprocess
import sys
from pathlib import Path

from bson import ObjectId

from core.db import connect
from core.db.embedded.store import table_name
from core.management.serialization import Spool, dump_line, load, validate_file
from support.cli import outer_env

REPO = Path(__file__).resolve().parents[2]
UTC = datetime.timezone.utc
# a bcrypt hash (of "correct horse battery"), so seeding needs no bcrypt
PASSWORD_HASH = "$2b$04$kZ0dJ2Xv3Xw7rQd0dI6X3eH8b3yq0y4x4Yb2gk1lq5vQm9vG0m1Wy"
COLLECTIONS = ("audit_log", "accounts_role", "accounts_user", "blog_category", "blog_article")


class Workspace:
    """A temp folder with named embedded databases and a ``manage.py`` runner."""

    def __init__(self, root, registry):
        self.root = Path(root)
        self.registry = registry

    def url(self, name):
        return f"embedded:{self.root / name}.sqlite3"

    def env(self, database_url, **extra):
        env = outer_env()
        env.update(BASTION_SETTINGS="settings.test", VAR_DIR=str(self.root / "var"),
                   DATABASE_URL=database_url, PYTHONUNBUFFERED="1")
        env.update({k: str(v) for k, v in extra.items()})
        return env

    def cli(self, args, database_url, timeout=120, **extra):
        """``manage.py ARGS`` on ``database_url``; the CompletedProcess (text)."""
        return subprocess.run([sys.executable, str(REPO / "manage.py"), *map(str, args)],
                              cwd=REPO, env=self.env(database_url, **extra),
                              capture_output=True, text=True, timeout=timeout)

    def write_lines(self, name, lines):
        """A dump file from ``[(model key, document) | raw text]``; returns its path."""
        path = self.root / name
        with open(path, "w", encoding="utf-8", newline="\n") as out:
            for line in lines:
                out.write(line if isinstance(line, str) else dump_line(*line))
        return path


async def read_all(url, collections=COLLECTIONS, driver="motor"):
    """``{collection: [documents in _id order]}`` as stored."""
    db = connect(url, driver)
    try:
        return {name: await db[name].find({}, sort=[("_id", 1)]).to_list(None)
                for name in collections}
    finally:
        await db.close()


async def count_all(url, collections=COLLECTIONS):
    db = connect(url)
    try:
        return {name: await db[name].count_documents({}) for name in collections}
    finally:
        await db.close()


def when(*args):
    return datetime.datetime(*args, tzinfo=UTC)


async def seed(url):
    """One of everything: users and roles (nested permissions), categories, articles with
    references, tags, odd text and dates before 1970, audit entries with escaped keys, and a
    stored key no model declares. Returns ``{name: ObjectId}``."""
    from apps.accounts.models import Role, User
    from apps.blog.models import Article, Category
    from core.audit import AuditEntry

    db = connect(url)
    try:
        for model in (Role, User, Category, Article, AuditEntry):
            await model.using(db).ensure_indexes()
        editors = await Role.using(db).create(
            name="editors", description="Write articles",
            permissions={"blog.article": ["write", "read"], "blog.category": ["read"]})
        alice = await User.using(db).create(
            username="alice", email="alice@example.com", password=PASSWORD_HASH,
            permissions={"blog.article": ["read"]}, roles=["editors"],
            last_login=when(2024, 5, 1, 12, 30, 0, 123000))
        root = await User.using(db).create(username="root", email="root@example.com",
                                           password=PASSWORD_HASH, is_superuser=True)
        news = await Category.using(db).create(name="News", description="Línea 1\nLine 2")
        old = await Category.using(db).create(name="Archive")
        first = await Article.using(db).create(
            title="Hello “world” ✓ \u2028 emoji 🎉", body="para 1\n\npara 2\t\"quoted\"",
            published=True, category=news, author=alice, tags=["intro", "ünïcode"],
            created=when(1969, 7, 20, 20, 17, 40))
        second = await Article.using(db).create(title="Second", category=old, author=root,
                                                created=when(2024, 2, 29, 23, 59, 59, 999000))
        second.title = "Second, edited"
        await second.save()  # version 2
        entry = await AuditEntry.using(db).create(
            action="update", model_key="blog.article", object_id=str(second.id),
            object_label="Second", actor="alice", actor_id=alice.id, ip="127.0.0.1",
            changes={"title": {"before": "Second", "after": "Second, edited"},
                     "odd.key$name": {"before": None, "after": when(2020, 1, 1)}})
        await db["blog_article"].update_one({"_id": first.id},
                                            {"$set": {"legacy_slug": "hello-world"}})
        return {"editors": editors.id, "alice": alice.id, "root": root.id, "news": news.id,
                "archive": old.id, "first": first.id, "second": second.id,
                "entry": entry.id}
    finally:
        await db.close()


def article_lines(count, start=0, category=None):
    """``count`` valid ``blog.article`` lines (model key, document)."""
    created = when(2024, 1, 1)
    for n in range(start, start + count):
        doc = {"_id": ObjectId(), "version": 1, "title": f"Article {n}", "body": "",
               "published": n % 2 == 0, "category": category, "author": None, "tags": [],
               "created": created, "updated": created}
        yield "blog.article", doc


def category_line(name, oid=None):
    return "blog.category", {"_id": oid or ObjectId(), "version": 1, "name": name,
                             "description": ""}


def parse_lines(text):
    """Every line of ``text`` as JSON (fails the test on a line that is not)."""
    return [json.loads(line) for line in text.splitlines()]


def stored_rows(url, collection):
    """The rows (document text, folds) the embedded database ``url`` keeps for
    ``collection``, in insertion order."""
    path = url.partition(":")[2]
    with sqlite3.connect(path) as conn:
        return conn.execute(f"SELECT doc, folds FROM {table_name(collection)} "
                            "ORDER BY rowid").fetchall()


async def load_with(workspace, path, name):
    """Load ``path`` into a new database ``name`` the document way (validate into a
    ``Spool``, then ``load``): the path a MongoDB load takes. Returns its url."""
    url = workspace.url(name)
    db = connect(url)
    try:
        with Spool() as spool:
            total = validate_file(path, workspace.registry, None, progress=False, spool=spool)
            await load(db, path, workspace.registry, io.StringIO(), total, False, spool=spool)
    finally:
        await db.close()
    return url
