"""A field restriction at a nested path (``-read:address.city``) is refused with its reason
by the engine, ``manage.py grant``, the matrix widget and the API: never stored, never
silently ignored (the part would still show through labels, searches and history)."""
import pytest

from core.permissions import normalize_permissions, parse_entry

from test_matrix_widget import GrantsForm, Posted

REASON = "a field restriction names a top-level field; restrict 'address' whole"


@pytest.mark.parametrize("entry", ["-read:address.city", "-write:address.city",
                                   "-read:address.geo.lat"])
def test_the_engine_refuses_a_nested_field_naming_its_top_level_field(entry):
    with pytest.raises(ValueError, match=REASON):
        parse_entry(entry)
    with pytest.raises(ValueError, match=REASON):
        normalize_permissions({"shop.customer": ["read", entry]})
    assert parse_entry("-read:address").field == "address"


def test_the_cli_refuses_it_in_one_line_and_stores_nothing(cli):
    cli.ok("createuser", "alice", "--email", "alice@example.com", "--password-stdin",
           input="plum-harbour-velvet\n")
    result = cli("grant", "alice", "shop.customer", "read", "--hide", "address.city")
    assert result.returncode == 1 and REASON in result.stderr, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert cli.ok("perms", "alice").stdout == "alice\nno permissions\n"


def test_the_widget_refuses_it_next_to_the_field():
    stored = {"blog.article": ["read"]}
    form = GrantsForm(Posted(permissions=["blog.article:-read:address.city"]),
                      obj=type("O", (), {"permissions": stored})())
    assert not form.validate()
    assert "top-level field" in " ".join(form.permissions.errors)
    assert form.permissions.data == stored


async def test_the_api_refuses_it_with_422_and_changes_nothing(site):
    root = await site.token_client("root", is_superuser=True)
    role = await site.model("accounts.role").create(name="support", permissions={},
                                                    db=site.db)
    reply = await root.patch(f"/api/accounts/role/{role.id}", {
        "permissions": {"blog.article": ["read", "-read:body.text"]}})
    assert reply.code == 422 and "top-level field" in reply.text, reply
    assert (await site.model("accounts.role").get(role.id, db=site.db)).permissions == {}
