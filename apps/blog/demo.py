"""Demo data: six categories and sixty articles, for a first look at the admin.

    from apps.blog.demo import load_demo
    created = await load_demo(db)      # {"categories": 6, "articles": 60}, or {} if any exist

``manage.py runserver`` calls it on the first run of the dev settings (see
``BlogApp.first_run``). It is idempotent: when any article exists it does nothing.
Articles are authored by the first superuser (none: no author). Titles, tags,
published flags and dates vary so that the list page's search, filters, sorting
and paging have something to show.

``load_demo_role(db)`` adds the role ``authors`` (``AUTHORS_ROLE``): read every
article, write and delete only one's own (the ``own`` scope of ``ArticleAdmin``), so
the seed's rule — only the author or a superuser deletes an article — is data an
operator can read with ``manage.py whocan blog.article delete``.
"""
import random
from datetime import datetime, timedelta, timezone

from core.models import get_database

from .models import Article, Category

CATEGORIES = [
    ("News", "Announcements and what changed."),
    ("Engineering", "How things are built, and why."),
    ("Design", "Interfaces, typography and colour."),
    ("Operations", "Running it: deploys, backups, incidents."),
    ("Community", "Meetups, contributors and thanks."),
    ("Tutorials", "Step-by-step guides."),
]

SUBJECTS = ["indexes", "permissions", "the admin", "MongoDB", "SQLite", "Tornado", "bulk actions",
            "search", "forms", "sessions", "templates", "migrations"]
PATTERNS = ["A first look at {}", "Ten tips for {}", "What we learned about {}",
            "{} in practice", "Why {} matter", "Debugging {}", "{} at scale",
            "Getting started with {}"]
TAGS = ["python", "mongodb", "tornado", "admin", "security", "performance", "howto",
        "release", "ux", "ops"]
ARTICLES = 60
SEED = 4  # the same demo every time

#: the demo role: every article readable, one's own writable and deletable
AUTHORS_ROLE = {"blog.article": ["delete:own", "read", "write:own"],
                "blog.category": ["read"]}


async def load_demo(db=None, *, author=None, now=None):
    """Create the demo categories and articles unless any article exists.

    ``db`` defaults to the bound database; ``author`` (a user id) defaults to the
    first superuser's. Returns ``{"categories": n, "articles": n}`` of what was
    created, ``{}`` when nothing was.
    """
    db = get_database(db)
    if await Article.using(db).count(limit=1):
        return {}
    if author is None:
        author = await _first_superuser_id(db)
    rng = random.Random(SEED)
    now = now or datetime.now(timezone.utc)

    categories = []
    made = 0
    for name, description in CATEGORIES:
        found = await Category.using(db).find_one({"name": name})
        if found is None:
            found = await Category.using(db).create(name=name, description=description)
            made += 1
        categories.append(found)

    for number in range(ARTICLES):
        subject = SUBJECTS[number % len(SUBJECTS)]
        pattern = PATTERNS[(number // len(SUBJECTS) + number) % len(PATTERNS)]
        title = pattern.format(subject)
        title = title[:1].upper() + title[1:]
        created = now - timedelta(days=number * 3 + rng.randint(0, 2), hours=rng.randint(0, 23),
                                  minutes=rng.randint(0, 59))
        await Article.using(db).create(
            title=f"{title} (part {number // len(SUBJECTS) + 1})",
            body=_body(rng, subject),
            published=rng.random() < 0.7,
            category=categories[number % len(categories)],
            author=author,
            tags=rng.sample(TAGS, rng.randint(1, 3)),
            created=created,
        )
    return {"categories": made, "articles": ARTICLES}


async def load_demo_role(db=None):
    """Create the role ``authors`` (``AUTHORS_ROLE``) unless a role of that name exists;
    returns 1 when it was created, else 0 (also without the accounts app)."""
    try:
        from apps.accounts.models import Role
    except ImportError:
        return 0
    db = get_database(db)
    if await Role.using(db).find_one({"name": "authors"}) is not None:
        return 0
    await Role.using(db).create(name="authors", permissions=AUTHORS_ROLE,
                                description="Demo: read every article, edit and delete "
                                            "one's own.")
    return 1


async def _first_superuser_id(db):
    """The id of the oldest superuser (through the registry's user model), else ``None``."""
    try:
        from apps.accounts.models import User
    except ImportError:
        return None
    user = await User.using(db).find_one({"is_superuser": True}, sort=["date_joined", "id"])
    return user.id if user is not None else None


def _body(rng, subject):
    sentences = [
        f"This article is about {subject}.",
        "It was written as demo data, so the list page has something to page through.",
        "Search for a word in it, filter by category or published state, or sort by a column.",
        f"Everything here can be edited or deleted; {subject} will not mind.",
        "Only the author of an article, or a superuser, may delete it.",
    ]
    rng.shuffle(sentences)
    return "\n\n".join(" ".join(sentences[i:i + 2]) for i in range(0, len(sentences), 2))
