"""The permission matrix widget with scoped, expiring and field entries: they are listed as
checked boxes, a new one comes from the text box, an unknown scope is an error next to
the field and nothing changes."""
import wtforms

from core.admin.widgets import PermissionMatrixField

MODELS = {"blog.article": ["read", "write", "delete"]}
SCOPES = {"blog.article": ["own"]}


class Posted(dict):
    def getlist(self, name):
        return list(self.get(name, []))


class GrantsForm(wtforms.Form):
    permissions = PermissionMatrixField("Permissions", registry=MODELS, scopes=SCOPES)


def test_entries_are_listed_added_and_removed():
    stored = {"blog.article": ["read", "write:own", "delete@2020-01-01T00:00Z"]}
    form = GrantsForm(obj=type("O", (), {"permissions": stored})())
    html = form.permissions.render_block()
    assert 'value="blog.article:write:own"' in html and "(expired)" in html
    posted = Posted(permissions=["blog.article:read", "blog.article:write:own", "",
                                 "blog.article:delete:own@2030-01-01T00:00Z"])
    form = GrantsForm(posted, obj=type("O", (), {"permissions": stored})())
    assert form.validate(), form.errors
    assert form.permissions.data == {
        "blog.article": ["delete:own@2030-01-01T00:00Z", "read", "write:own"]}


def test_an_unknown_scope_is_an_error_and_changes_nothing():
    stored = {"blog.article": ["read"]}
    form = GrantsForm(Posted(permissions=["blog.article:write:team"]),
                      obj=type("O", (), {"permissions": stored})())
    assert not form.validate()
    assert form.permissions.errors == [
        "Model blog.article has no scope 'team' (its scopes: own)."]
    assert form.permissions.data == stored
