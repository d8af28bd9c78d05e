"""Fixtures for the blog app's tests.

* ``registry`` — a registry with ``apps.accounts`` and ``apps.blog`` loaded.
* ``db`` — an in-memory database bound to the models, every declared index created.
* ``make_user`` — ``await make_user("alice", permissions={...})`` saves a user.
* ``as_user`` — a stand-in for a request handler (``current_user``, ``permissions``
  as a real ``core.permissions.Permissions``, ``db``), what ``ModelAdmin`` reads.
"""
from types import SimpleNamespace

import pytest

import core.models
from core.db import connect
from core.permissions import Permissions
from core.registry import Registry

INSTALLED = ["apps.accounts", "apps.blog"]


@pytest.fixture
def registry():
    return Registry(installed_apps=INSTALLED).load()


@pytest.fixture
async def db(registry):
    previous = core.models.unbind()
    database = connect("memory:")
    registry.bind(database)
    await registry.ensure_indexes()
    yield database
    core.models.unbind()
    await database.close()
    if previous is not None:
        core.models.bind(previous)


@pytest.fixture
def make_user(db):
    from apps.accounts.models import User

    async def make(username, permissions=None, is_superuser=False):
        return await User.create_user(username, f"{username}@example.com", None,
                                      permissions=permissions or {},
                                      is_superuser=is_superuser)
    return make


@pytest.fixture
def as_user(registry, db):
    def handler_for(user):
        return SimpleNamespace(current_user=user, db=db,
                               permissions=Permissions(user, {}, registry))
    return handler_for
