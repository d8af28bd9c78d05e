"""The reset flow on a MongoDB-wire server (``$MONGO_URL``; CI starts FerretDB), through both
drivers: last logins stored at millisecond precision still give a token that checks, and
the request counter (``password_reset_requests``, its TTL index) works there too. Skips
with the reason otherwise (the root conftest fails that skip under ``CI=true``)."""
import os
import uuid
from urllib.parse import urlsplit, urlunsplit

import pytest

from core.db import connect
from reset_kit import INVALID, make_settings
from support import NEW_PASSWORD

pytestmark = pytest.mark.wire


@pytest.fixture(params=["motor", "pymongo"])
async def wire_settings(request, tmp_path, smtp):
    base = os.environ.get("MONGO_URL")
    if not base:
        pytest.skip("MONGO_URL not set: no MongoDB-wire server")
    parts = urlsplit(base)
    name = f"bastion_reset_{uuid.uuid4().hex[:10]}"
    url = urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))
    yield make_settings(tmp_path, smtp, DATABASE_URL=url, MONGO_DRIVER=request.param)
    db = connect(url, request.param)
    try:
        await db.drop()
    finally:
        await db.close()


async def test_reset_on_the_wire_server(server, wire_settings, smtp):
    site = await server(wire_settings)
    await site.create_user("alice")
    assert (await site.browser().login("alice")).code == 303        # a stored last_login
    info = await site.db["password_reset_requests"].index_information()
    assert "expires_at_ttl" in info
    for _ in range(3):
        assert (await site.ask(site.browser(), "alice@example.com")).code == 303
    assert (await site.ask(site.browser(), "alice@example.com")).code == 429
    links = [m.link() for m in await smtp.wait_for(3)]
    assert (await site.set_password(site.browser(), links[0])).code == 303
    for link in links:                                # one used: every link of hers is dead
        page = await site.browser().get(link[link.index("/admin/"):])
        assert page.code == 400 and INVALID in page.text
    assert (await site.browser().login("alice", NEW_PASSWORD)).code == 303
