"""Finding the messages to translate (``manage.py makemessages`` and tests/i18n).

* ``extract_tornado`` — a Babel extraction method for Tornado templates: the
  ``_("…")``, ``locale.translate("…", "…", n)`` calls inside ``{{ }}`` and ``{% %}``;
* ``extract_script`` — one for the static scripts: their ``T("…")`` and ``T.n("…", "…",
  n)`` (``core.i18n.find_script_messages``, which also builds the pages' script catalog);
* ``extract_tree(root, paths)`` — a Babel ``Catalog`` of every message in the Python
  files and templates under ``paths``;
* ``update_catalogs(template, locale_dir, languages)`` — ``<lang>/LC_MESSAGES/
  bastion.po`` brought in step with ``template`` (new msgids added untranslated,
  vanished ones made obsolete), as ``pybabel update`` does;
* ``unmarked_text(source)`` — English left outside ``_()`` in a template.
"""
import io
import re
from pathlib import Path

from babel.messages import pofile
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_file, extract_python

from core.i18n import DOMAIN, find_script_messages

__all__ = ["KEYWORDS", "METHOD_MAP", "extract_script", "extract_tornado", "extract_tree",
           "unmarked_text", "update_catalogs"]

#: the calls whose string arguments are messages: ``(1, 2)`` = singular, plural
KEYWORDS = {"_": None, "_l": None, "gettext": None, "gettext_lazy": None, "ngettext": (1, 2),
            "translate": (1, 2)}
#: which files are read, and how (Babel's ``method_map``)
METHOD_MAP = [("**/tests/**", "ignore"), ("**/app_template/**", "ignore"),
              ("**.py", "python"), ("**.html", "core.i18n_extract:extract_tornado"),
              ("**.txt", "core.i18n_extract:extract_tornado"),
              ("**.js", "core.i18n_extract:extract_script")]

_TAG = re.compile(r"\{\{(?!!)(.*?)\}\}|\{%(?!!)(.*?)%\}|\{#.*?#\}", re.S)


def extract_tornado(fileobj, keywords, comment_tags, options):
    """Babel extraction method: the messages of the expressions and statements of a
    Tornado template, with their line numbers."""
    source = fileobj.read().decode(options.get("encoding", "utf-8"))
    for match in _TAG.finditer(source):
        code = match.group(1) if match.group(1) is not None else match.group(2)
        if not code:
            continue
        line = source.count("\n", 0, match.start()) + 1
        snippet = io.BytesIO(code.strip().encode("utf-8"))
        try:
            found = list(extract_python(snippet, keywords, comment_tags, {}))
        except SyntaxError:               # a statement the tokenizer cannot read
            continue
        for lineno, funcname, messages, comments in found:
            yield line + lineno - 1, funcname, messages, comments


def extract_script(fileobj, keywords, comment_tags, options):
    """Babel extraction method: the ``T("…")`` and ``T.n("…", "…", n)`` texts of a script."""
    source = fileobj.read().decode(options.get("encoding", "utf-8"))
    for line, message in find_script_messages(source):
        yield line, "ngettext" if isinstance(message, tuple) else "gettext", message, []


def extract_tree(root, paths, project="Bastion"):
    """A ``Catalog`` of the messages in ``paths`` (folders relative to ``root``)."""
    root = Path(root)
    catalog = Catalog(project=project, domain=DOMAIN, charset="utf-8")
    for folder in paths:
        base = root / folder
        files = [base] if base.is_file() else sorted(p for p in base.rglob("*") if p.is_file())
        for path in files:
            relative = path.relative_to(root).as_posix()
            method = _method_for(relative)
            if method is None:
                continue
            for lineno, message, comments, context in extract_from_file(
                    method, str(path), keywords=KEYWORDS, options={"encoding": "utf-8"}):
                catalog.add(message, None, [(relative, lineno)], auto_comments=comments,
                            context=context)
    return catalog


def _method_for(relative):
    from babel.messages.extract import pathmatch
    for pattern, method in METHOD_MAP:
        if pathmatch(pattern, relative) or pathmatch(pattern, "x/" + relative):
            return None if method == "ignore" else method
    return None


def po_path(locale_dir, language):
    """Where ``language``'s catalog lives under ``locale_dir``."""
    return Path(locale_dir) / language / "LC_MESSAGES" / f"{DOMAIN}.po"


def read_catalog(path, language):
    with open(path, "rb") as source:
        return pofile.read_po(source, locale=language, domain=DOMAIN)


def update_catalogs(template, locale_dir, languages):
    """Bring each language's ``.po`` under ``locale_dir`` in step with ``template``;
    returns ``{language: (added, obsolete)}`` msgid counts."""
    report = {}
    for language in languages:
        path = po_path(locale_dir, language)
        if path.exists():
            catalog = read_catalog(path, language)
        else:
            catalog = Catalog(locale=language, domain=DOMAIN, project=template.project,
                              charset="utf-8")
        before = {message.id for message in catalog if message.id}
        catalog.update(template, no_fuzzy_matching=True)
        after = {message.id for message in catalog if message.id}
        report[language] = (len(after - before), len(catalog.obsolete))
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "wb") as out:
            pofile.write_po(out, catalog, width=100, omit_header=False, ignore_obsolete=True,
                            sort_output=False)
    return report


def missing_or_untranslated(template, locale_dir, language):
    """``(missing, untranslated)`` msgid lists: messages of ``template`` the catalog of
    ``language`` lacks, and entries it has with no (or a fuzzy) translation."""
    path = po_path(locale_dir, language)
    if not path.exists():
        return [m.id for m in template if m.id], []
    catalog = read_catalog(path, language)
    missing = [m.id for m in template if m.id and catalog.get(m.id) is None]
    untranslated = []
    for message in catalog:
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if message.fuzzy or not all(strings):
            untranslated.append(message.id)
    return missing, untranslated


# -- English left unmarked in a template --------------------------------------------------
_STRIP = re.compile(r"\{%\s*block\s+body_class\s*%\}.*?\{%\s*end\s*%\}"
                    r"|\{#.*?#\}|<!--.*?-->|<script\b.*?</script>|<style\b.*?</style>"
                    r"|\{\{.*?\}\}|\{%.*?%\}", re.S)
_TAGS = re.compile(r"<[^>]*>", re.S)
_ATTRIBUTES = re.compile(r'\b(placeholder|title|alt|aria-label)="([^"]*)"')
_WORD = re.compile(r"[A-Za-z]{2,}")
#: words that stay as they are in every language
UNTRANSLATED_WORDS = {"Bastion", "CSV", "OK"}


def unmarked_text(source):
    """``[(line, text)]``: words of a template outside ``{{ }}`` / ``{% %}`` — in text
    nodes and in ``placeholder``/``title``/``alt``/``aria-label`` — that are not
    translated (a text to wrap in ``_()``)."""
    found = []

    def blank(match):
        return re.sub(r"[^\n]", " ", match.group(0))

    plain = _STRIP.sub(blank, source)
    for match in _ATTRIBUTES.finditer(plain):
        if _has_words(match.group(2)):
            found.append((plain.count("\n", 0, match.start()) + 1, match.group(2).strip()))
    text = _TAGS.sub(blank, plain)
    for number, line in enumerate(text.splitlines(), 1):
        line = re.sub(r"&[a-z]+;|&#\d+;", " ", line)
        if _has_words(line):
            found.append((number, " ".join(line.split())))
    return found


def _has_words(text):
    return any(word not in UNTRANSLATED_WORDS for word in _WORD.findall(text))


# -- English left unmarked in a command's messages ----------------------------------------
#: calls whose first text argument is a message for the one running the command
_CLI_MESSAGE_CALLS = {"CommandError", "ArgumentTypeError", "LineError", "LoadError",
                      "InsertFailed", "write", "warn", "getpass"}
#: programs a command names in its output (``python manage.py ensure_indexes``)
_PROGRAMS = {"python", "pytest"}


def unmarked_cli_messages(source):
    """``[(line, text)]``: English messages of a command module (``source``) that do not
    go through a translation call — a text literal or f-string with words given to
    ``CommandError``, ``ArgumentTypeError``, ``self.write``/``self.warn``, an argument's
    ``help=`` or a command's ``help``. A literal without words (``f"{key}: {names}"``)
    is fine, as are names of code (``--until``, ``manage.py``, ``DEFAULT_PERMISSIONS``,
    ``KeyboardInterrupt``); so is anything computed elsewhere (a name, a call)."""
    import ast
    found = []

    def check(node):
        for text_node in _texts(node):
            if _has_prose(_literal_text(text_node)):
                found.append((text_node.lineno, _literal_text(text_node)))

    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call):
            name = node.func.attr if isinstance(node.func, ast.Attribute) else \
                getattr(node.func, "id", None)
            if name in _CLI_MESSAGE_CALLS:
                for argument in node.args:
                    check(argument)
            if name == "add_argument":
                for keyword in node.keywords:
                    if keyword.arg == "help":
                        check(keyword.value)
        elif isinstance(node, ast.Assign) and any(
                isinstance(target, ast.Name) and target.id == "help" for target in node.targets):
            check(node.value)
    return sorted(found)


def _texts(node):
    """The text literals of ``node`` shown as they are: the node itself, the branches of a
    conditional, the parts of a concatenation or ``%`` formatting — not what is inside a
    translation call or any other call."""
    import ast
    if isinstance(node, (ast.Constant, ast.JoinedStr)):
        return [node] if isinstance(node, ast.JoinedStr) or isinstance(node.value, str) else []
    if isinstance(node, ast.IfExp):
        return _texts(node.body) + _texts(node.orelse)
    if isinstance(node, ast.BinOp):
        return _texts(node.left) + (_texts(node.right) if isinstance(node.op, ast.Add) else [])
    return []


def _has_prose(text):
    """Does ``text`` hold a word of prose (not a program, option, setting or identifier)?"""
    for token in text.split():
        token = token.strip(",;:()'\"!?")
        if any(sign in token for sign in "._-/<>=%{}[]") or token in _PROGRAMS \
                or token in UNTRANSLATED_WORDS or any(c.isupper() for c in token[1:]):
            continue
        if _WORD.search(token):
            return True
    return False


def _literal_text(node):
    """The fixed text of a literal or f-string (its ``{}`` parts left out)."""
    import ast
    if isinstance(node, ast.Constant):
        return node.value
    return "".join(part.value for part in node.values
                   if isinstance(part, ast.Constant) and isinstance(part.value, str))
