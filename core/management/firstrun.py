"""The first run: what ``manage.py runserver`` does on an empty database in development.

When the setting ``FIRST_RUN_DEMO`` is on (``settings.dev`` only) and the user model
(``AUTH_USER_MODEL``) has no users at all, runserver calls each installed app's
``App.first_run(run)`` hook in ``INSTALLED_APPS`` order, then prints what the
hooks said once, in a box. The accounts app creates a superuser there and says
how to log in; the demo app loads its demo data. Core never imports an app: it
only calls the hooks. A marker document in ``bastion_first_run`` makes it happen
once per database, even when two servers start at once.

    run = await first_run(settings, registry, db, "http://127.0.0.1:8000/admin/")
    if run is not None:
        print(run.box())

A hook receives a ``FirstRun``: ``db``, ``settings``, ``registry``, ``admin_url``,
``say(line)`` for the console, and ``state``, a dict hooks share (the accounts
app leaves the new superuser's id under ``"superuser_id"``).
"""
import inspect
from datetime import datetime, timezone

from core.db.errors import DuplicateKeyError

__all__ = ["MARKER_COLLECTION", "FirstRun", "first_run", "is_first_run"]

MARKER_COLLECTION = "bastion_first_run"


class FirstRun:
    """What a first-run hook gets, and what the hooks said."""

    def __init__(self, db, settings, registry, admin_url):
        self.db = db
        self.settings = settings
        self.registry = registry
        self.admin_url = admin_url
        self.state = {}
        self.lines = []

    def say(self, line):
        """Add a line to the box printed once the hooks have run."""
        self.lines.append(str(line))

    def box(self):
        """The hooks' lines framed for the console (empty text when nothing was said)."""
        if not self.lines:
            return ""
        width = max(len(line) for line in self.lines)
        rule = "+" + "-" * (width + 4) + "+"
        body = [f"|  {line.ljust(width)}  |" for line in self.lines]
        return "\n".join([rule, *body, rule])


def user_model(settings, registry):
    """The installed user model (``AUTH_USER_MODEL``), or ``None``."""
    try:
        return registry.get_model(settings.get("AUTH_USER_MODEL") or "accounts.user")
    except LookupError:
        return None


async def is_first_run(settings, registry, db):
    """``FIRST_RUN_DEMO`` is on, a user model is installed, and it holds no user at all."""
    if not settings.get("FIRST_RUN_DEMO"):
        return False
    model = user_model(settings, registry)
    if model is None:
        return False
    return not await model.using(db).count(limit=1)


async def first_run(settings, registry, db, admin_url):
    """Run every app's ``first_run`` hook if this is a first run; the ``FirstRun`` or ``None``.

    A marker document (``MARKER_COLLECTION``) makes it happen once per database:
    of two servers starting at once on the same empty database, one runs the
    hooks. Every model's declared indexes are created before the hooks run.
    """
    if not await is_first_run(settings, registry, db):
        return None
    try:    # one first run per database, even with two servers starting at once
        await db[MARKER_COLLECTION].insert_one({"_id": "first_run",
                                                "at": datetime.now(timezone.utc)})
    except DuplicateKeyError:
        return None
    run = FirstRun(db, settings, registry, admin_url)
    try:
        for model in registry.get_models():
            await model.ensure_indexes(db=db)
        for app in registry.apps.values():
            hook = getattr(app, "first_run", None)
            if hook is None:
                continue
            result = hook(run)
            if inspect.isawaitable(result):
                await result
    except BaseException:
        # a failed first run may be tried again (if it left no user behind)
        await db[MARKER_COLLECTION].delete_one({"_id": "first_run"})
        raise
    return run
