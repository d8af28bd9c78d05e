"""Reading the admin's HTML in assertions: error lists, rows, links, visible text."""
import html
import re

TAGS = re.compile(r"<[^>]+>")


def text_of(markup):
    """Visible text: tags removed, whitespace collapsed (entities left as they are)."""
    return " ".join(TAGS.sub(" ", markup).split())


def error_for(text, name):
    """The error list rendered next to field ``name``, as text ('' if none)."""
    match = re.search(rf'<ul class="errorlist" id="id_{name}_errors">(.*?)</ul>', text, re.S)
    return TAGS.sub(" ", match.group(1)).strip() if match else ""


def errors_in(text, name):
    """``error_for`` with the HTML entities unescaped."""
    match = re.search(rf'<ul class="errorlist" id="id_{name}_errors">(.*?)</ul>', text, re.S)
    return html.unescape(TAGS.sub(" ", match.group(1))).strip() if match else ""


def form_errors(text):
    """The form's non-field error list, unescaped ('' if none)."""
    match = re.search(r'<ul class="errorlist nonfield" role="alert">(.*?)</ul>', text, re.S)
    return html.unescape(TAGS.sub(" ", match.group(1))).strip() if match else ""


def row_ids(text):
    """The object ids of the list page's rows, in order."""
    return re.findall(r'<tr data-id="([0-9a-f]{24})">', text)


def row(text, object_id):
    """The list page's row of ``object_id`` as HTML ('' if it is not listed)."""
    match = re.search(rf'<tr data-id="{object_id}">.*?</tr>', text, re.S)
    return match.group(0) if match else ""


def link(text, rel):
    """The href of the ``rel`` pagination link, unescaped ('' if absent)."""
    match = re.search(rf'<a href="([^"]*)" rel="{rel}">', text)
    return html.unescape(match.group(1)) if match else ""


def inline_scripts(markup):
    """The ``<script>`` tags of ``markup`` without a ``src``: code the CSP would refuse."""
    return re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", markup)
