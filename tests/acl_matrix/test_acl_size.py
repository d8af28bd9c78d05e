"""The matrix is generated, not listed: it covers every model, profile and endpoint."""
import acl_kit


def test_the_matrix_has_at_least_500_cells_over_every_channel():
    cells = acl_kit.all_cells()
    print(f"ACL matrix: {len(cells)} cells")
    assert len(cells) >= 500
    models = {cell.model for cell in cells}
    assert models >= {"blog.article", "blog.category", "accounts.role", "accounts.user"}
    kinds = {cell.endpoint.split(":")[0] for cell in cells}
    assert {"list", "detail", "bulk", "api", "openapi", "ws"} <= kinds
    ids = [cell.id for cell in cells]
    assert len(ids) == len(set(ids))


def test_the_expectations_follow_the_rules():
    article = acl_kit.plan()["blog.article"]
    audit = acl_kit.plan()["audit.entry"]
    P = acl_kit.Profile

    def ok(grants, endpoint, model=article, **kw):
        return acl_kit.expected(P("p", frozenset(grants), **kw), model, endpoint).allowed

    assert not ok({"write"}, "change:get") and ok({"read", "write"}, "change:post")
    assert ok({"write"}, "add:post") and ok({"delete"}, "delete:get")
    assert not ok({"delete"}, "bulk:delete_selected:post")
    assert ok({"read", "publish"}, "bulk:publish:post") and not ok({"publish"}, "bulk:publish:post")
    assert ok({"write"}, "openapi:list.post") and not ok({"write"}, "openapi:object.patch")
    assert not ok(set(), "api:delete", audit, superuser=True)
    assert ok(set(), "api:detail", audit, superuser=True)
    # scoped and expiring grants (issue 14): own objects yes, someone else's no; in force
    assert ok({"read", "write:own"}, "change:post")
    assert not ok({"read", "write:own"}, "change:post@foreign")
    assert not ok({"read", "delete:own"}, "api:delete@foreign")
    assert ok({"read", "write:own"}, "add:post") and ok({"read", "write:own"}, "api:post")
    assert ok({"read", "write@2999-01-01T00:00Z"}, "api:patch")
    assert not ok({"read", "write@2020-01-01T00:00Z"}, "api:patch")
    kinds = {cell.profile.name for cell in acl_kit.cells("blog.article")}
    assert {"authors", "timed"} <= kinds
    inactive = acl_kit.expected(P("i", frozenset({"read"}), inactive=True), article, "api:list")
    assert inactive.status == 401 and not inactive.allowed
