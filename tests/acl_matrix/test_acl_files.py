"""The ACL matrix of file endpoints: profiles × the admin's download and the API's file URL.

The model is ``vault.dossier`` (the test app ``vault_demo``: one ``document`` file field,
the ``own`` scope naming the dossiers the user owns). Endpoints: the admin download
``/admin/vault/dossier/<id>/file/document/`` and ``GET``/``PUT``/``DELETE`` of
``/api/vault/dossier/<id>/files/document`` — on a dossier the actor owns and on one root
owns (``@foreign``). ``expected`` is the rule as one pure function: the bytes go only to
a reader of the object (its scope included; 404 beyond a scoped read or for a hidden
field); a PUT or DELETE needs write reaching the object and read (422 for a frozen
field). Every cell checks the status, that the stored file changed exactly when allowed,
and that no refused response holds the file's marker.
"""
import datetime
from dataclasses import dataclass

import pytest
import pytest_asyncio

from acl_kit import reach
from support import make_settings, serving
from support.api import ApiSite

APPS = ["core.audit", "apps.accounts", "vault_demo"]
KEY = "vault.dossier"
MARKER = b"SECRET-FILE-7f3a"
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n%" + MARKER + \
    b"\ntrailer\n%%EOF\n"
NEW_PDF = PDF.replace(b"Catalog", b"Catalog /New")


def _stamp(minutes):
    moment = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(minutes=minutes)
    return moment.strftime("%Y-%m-%dT%H:%MZ")


PROFILES = {
    "nothing": (),
    "read": ("read",),
    "write": ("write",),
    "read+write": ("read", "write"),
    "read:own": ("read:own",),
    "read:own+write:own": ("read:own", "write:own"),
    "read+write:own": ("read", "write:own"),
    "no-document": ("read", "write", "-read:document"),
    "frozen-document": ("read", "write", "-write:document"),
    "expired": (f"read@{_stamp(-1)}", f"write@{_stamp(-1)}"),
    "until-tomorrow": (f"read@{_stamp(24 * 60)}", f"write@{_stamp(24 * 60)}"),
    "superuser": None,
}
ENDPOINTS = ("download", "api:get", "api:put", "api:delete")


def expected(profile, endpoint):
    """``(status, allowed)`` the rules answer for ``profile`` on ``endpoint``."""
    base, _, variant = endpoint.partition("@")
    grants = PROFILES[profile]
    if grants is None:                                   # a superuser
        return {"api:put": 200, "api:delete": 200}.get(base, 200), True

    def can(action):
        how_far = reach(grants, action)
        return how_far == "all" or (how_far == "own" and variant != "foreign")

    writes = base in ("api:put", "api:delete")
    if not reach(grants, "read") or (writes and not reach(grants, "write")):
        return 403, False                                 # the model is not granted
    if not can("read"):
        return 404, False                                 # beyond a scoped read: no object
    if "-read:document" in grants:
        return 404, False                                 # a hidden field: no such file
    if writes and not can("write"):
        return 403, False                                 # beyond the write's scope
    if writes and "-write:document" in grants:
        return 422, False                                 # a frozen field
    return 200, True


def cells():
    return [(profile, endpoint + variant) for profile in PROFILES for endpoint in ENDPOINTS
            for variant in ("", "@foreign")]


@dataclass
class Actor:
    user: object
    browser: object
    api: object


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def vault(tmp_path_factory):
    async with serving(ApiSite, shutdown_first=True) as servers:
        site = await servers.serve(make_settings(tmp_path_factory.mktemp("vault"), APPS))
        actors = {}
        for index, (name, grants) in enumerate(PROFILES.items()):
            username = f"vault-{index}"
            perms = {KEY: sorted(grants)} if grants else {}
            client = await site.token_client(username, perms, is_superuser=grants is None)
            browser = site.browser()
            assert (await browser.login(username)).code == 303
            actors[name] = Actor(client.user, browser, client)
        root = await site.token_client("vault-root", is_superuser=True)
        yield site, actors, root.user


@pytest.mark.asyncio(loop_scope="module")
@pytest.mark.parametrize("profile,endpoint", [
    pytest.param(profile, endpoint, id=f"{KEY}|{profile}|{endpoint}")
    for profile, endpoint in cells()])
async def test_cell(vault, profile, endpoint):
    from core.models.files import Upload
    site, actors, root = vault
    Dossier = site.model(KEY)
    actor = actors[profile]
    status, allowed = expected(profile, endpoint)
    base, _, variant = endpoint.partition("@")
    owner = root if variant == "foreign" else actor.user
    dossier = await Dossier.create(title=f"{profile} {endpoint}", owner=owner.id,
                                   document=Upload(PDF, "report.pdf"), db=site.db)
    try:
        path = f"/api/vault/dossier/{dossier.id}/files/document"
        if base == "download":
            reply = await actor.browser.get(f"/admin/vault/dossier/{dossier.id}/file/document/")
        elif base == "api:put":
            reply = await actor.api.request("PUT", path + "?filename=new.pdf", raw=NEW_PDF,
                                            content_type="application/pdf")
        else:
            reply = await actor.api.request("GET" if base == "api:get" else "DELETE", path)
        body = reply.raw.body or b""
        stored = (await Dossier.get(dossier.id, db=site.db)).document
    finally:
        await Dossier.get_collection(site.db).delete_one({"_id": dossier.id})
    assert reply.code == status, reply.text[:300]
    if base in ("download", "api:get") and allowed:
        assert body == PDF, "the reader did not get the bytes"
    if not allowed:
        assert MARKER not in body, "a refused response holds the file"
    changed = stored is None or stored.name != "report.pdf"
    assert changed == (allowed and base in ("api:put", "api:delete")), stored
    if allowed and base == "api:put":
        assert stored is not None and stored.name == "new.pdf", stored


def test_the_cells_cover_every_endpoint_and_each_refusal():
    """The generated cells reach every status the rules give (none is vacuous)."""
    statuses = {expected(profile, endpoint)[0] for profile, endpoint in cells()}
    assert statuses == {200, 403, 404, 422}
    assert len(cells()) == len(PROFILES) * len(ENDPOINTS) * 2
