"""Every refusal a handler raises (``HTTPError``/``ApiError`` with a text) says it in the
request's language: a literal or an f-string there is English for everyone."""
import ast
from pathlib import Path

from core import i18n

REPO = Path(i18n.CORE_LOCALE_DIR).parent


def is_plain_text(node):
    """Is ``node`` a string literal or an f-string (a text not through ``gettext``)?"""
    return isinstance(node, ast.JoinedStr) or \
        isinstance(node, ast.Constant) and isinstance(node.value, str)


def untranslated_refusals(source):
    """``[line]`` of each ``HTTPError(status, "…")`` / ``ApiError(status, f"…")`` and
    each ``{"error": "…"}`` (a JSON answer's error; not the mapping of a ``%`` format)
    in ``source``: a text written as it is, not through ``gettext``."""
    tree, lines = ast.parse(source), []
    mappings = {id(node.right) for node in ast.walk(tree)
                if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod)}
    for node in ast.walk(tree):
        if isinstance(node, ast.Dict) and id(node) not in mappings:
            lines.extend(node.lineno for key, value in zip(node.keys, node.values)
                         if isinstance(key, ast.Constant) and key.value == "error"
                         and is_plain_text(value))
        if not isinstance(node, ast.Call) or len(node.args) < 2:
            continue
        name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
        if name in ("HTTPError", "ApiError") and is_plain_text(node.args[1]):
            lines.append(node.lineno)
    return sorted(lines)


def test_the_check_finds_a_literal_and_an_f_string():
    source = ('raise HTTPError(404, "No such page.")\n'
              'raise ApiError(400, f"Bad {x}.")\n'
              'raise HTTPError(404, self.gettext("No such page."))\n'
              'raise HTTPError(404)\n'
              'self.write_json({"error": "Bad link."})\n'
              'self.write_json({"error": self.gettext("Bad link.")})\n'
              'print(_("%(error)s, sorry") % {"error": f"{exc}"})\n')
    assert untranslated_refusals(source) == [1, 2, 5]


def test_no_handler_refuses_in_english_only():
    found = [f"{path.relative_to(REPO)}:{line}"
             for path in sorted([*REPO.glob("core/**/*.py"), *REPO.glob("apps/**/*.py")])
             for line in untranslated_refusals(path.read_text(encoding="utf-8"))]
    assert found == []


async def test_a_missing_static_file_is_refused_in_the_browsers_language(site):
    page = await site.browser().get("/static/nothing-here.js",
                                    headers={"Accept-Language": "de"})
    assert page.code == 404
    assert i18n.locale_for("de").translate("File not found.") in page.text


async def test_a_body_that_is_not_json_is_refused_in_the_users_language(site):
    """``BaseHandler.get_json_body`` (the account page's passkey endpoints use it)."""
    import json
    french = await site.user_browser("zoe", {"notes.note": ["read"]}, language="fr")
    for body, message in (("{nope", "The body is not valid JSON: %(reason)s"),
                          ("[1]", "The body must be a JSON object.")):
        answer = await french.fetch("/admin/account/passkeys/", method="POST", body=body,
                                    headers={"Content-Type": "application/json",
                                             "Accept": "application/json",
                                             "X-XSRFToken": await french.xsrf()})
        assert answer.code == 400, body
        said = i18n.locale_for("fr").translate(message)
        assert json.loads(answer.text)["error"].startswith(said.split("%(")[0]), body
        assert said != message
