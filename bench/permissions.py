"""The permission engine's cost per request: a user with 20 roles and 200 grants.

    python bench/permissions.py [--roles 20] [--grants 200] [--repeat 2000]

Every request builds one ``core.permissions.Permissions`` from the user document and
their roles (parsing every entry: scoped, expiring and field-restricting ones mixed in)
and then asks what a list page asks: the model grant, the reach of ``read`` and
``write``, the hidden and frozen fields, and ``has`` on 50 objects (a page). Prints
microseconds per request for building, for the page's checks, and for ``lacks`` (the
escalation check of a role save). Plain data, no I/O: the figures are the engine alone.
"""
import argparse
import datetime
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.permissions import Permissions  # noqa: E402

ACTIONS = ("read", "write", "delete", "publish", "export")
FIELDS = ("title", "body", "notes", "email", "price")


def make_data(roles, grants, seed=7):
    """``(user, {role: dict}, models)`` with ``grants`` entries spread over the dicts."""
    rng = random.Random(seed)
    models = {f"app{i // 10}.model{i}": ACTIONS for i in range(60)}
    keys = sorted(models)
    soon = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=3)) \
        .strftime("%Y-%m-%dT%H:%MZ")
    past = "2020-01-01T00:00Z"
    dicts = [{} for _ in range(roles + 1)]
    for number in range(grants):
        entry = rng.choice(ACTIONS)
        kind = rng.random()
        if kind < 0.25:
            entry += ":own"
        elif kind < 0.35:
            entry += f"@{rng.choice((soon, past))}"
        elif kind < 0.45:
            entry = f"-{rng.choice(('read', 'write'))}:{rng.choice(FIELDS)}"
        dicts[number % len(dicts)].setdefault(rng.choice(keys), []).append(entry)
    role_dicts = {f"role{i}": d for i, d in enumerate(dicts[1:])}
    user = {"username": "bench", "is_active": True, "is_superuser": False,
            "permissions": dicts[0], "roles": list(role_dicts)}
    return user, role_dicts, models


def per_request_us(function, repeat):
    samples = []
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(repeat):
            function()
        samples.append((time.perf_counter() - start) / repeat * 1e6)
    return statistics.median(samples)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--roles", type=int, default=20)
    parser.add_argument("--grants", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=2000)
    args = parser.parse_args(argv)
    user, roles, models = make_data(args.roles, args.grants)
    key = sorted(models)[0]
    objects = [object() for _ in range(50)]
    perms = Permissions(user, roles, models)

    def build():
        Permissions(user, roles, models)

    def page():
        perms.has(key, "read")
        perms.reach(key, "read")
        perms.reach(key, "write")
        perms.hidden_fields(key)
        perms.frozen_fields(key)
        for obj in objects:
            perms.has(key, "read", obj=obj, scope_match=lambda scope, target: True)

    grants = {k: list(v) for k, v in list(roles.values())[0].items()}

    def lacks():
        perms.lacks(grants)

    print(f"user with {args.roles} roles and {args.grants} grants "
          f"({sum(len(v) for d in [user['permissions'], *roles.values()] for v in d.values())}"
          f" entries), {len(models)} models")
    print(f"build Permissions:        {per_request_us(build, args.repeat):8.1f} µs per request")
    print(f"a list page's checks:     {per_request_us(page, args.repeat):8.1f} µs per request "
          "(50 objects)")
    print(f"lacks() on one role dict: {per_request_us(lacks, args.repeat):8.1f} µs per save")


if __name__ == "__main__":
    main()
