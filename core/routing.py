"""``RouteIndex``: which of an application's routes a request path could match at all.

Tornado tries an application's rules in order, a regular expression each, until one
matches: a page routed near the end of a hundred rules (the admin's model pages) pays
for every rule before it on every request. Most rules start with literal text
(``/admin/blog/article/([^/]+)/$`` with ``/admin/blog/article/``), and a path that does
not start with that text cannot match the rule. The index files each rule under its
literal prefix cut after its last ``/`` (``/admin/blog/article/``); a path's candidates
are the rules filed under one of its own ``/``-ending prefixes (``/``, ``/admin/``,
``/admin/blog/``...), in the rules' order, so the first candidate that matches is the
rule Tornado's walk would have found. A leaf module: it knows Tornado's rules and
matchers, nothing of Bastion.
"""
import re

from tornado.routing import PathMatches

__all__ = ["RouteIndex", "literal_prefix"]

#: characters that end a pattern's literal text (``\\`` is looked at on its own)
SPECIAL = set(".^$*+?{}[]|()")
#: quantifiers that make the character before them optional
OPTIONAL = set("*?{")


def literal_prefix(pattern):
    """The text every string matched by ``pattern`` (a ``re`` pattern string, matched
    from the start) begins with: ``""`` when it cannot tell (an alternation anywhere, a
    class or group first). ``\\.`` is a literal dot; ``x?``, ``x*`` and ``x{0,1}`` leave
    ``x`` out."""
    if "|" in pattern:
        return ""
    text = []
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if char == "\\":
            escaped = pattern[index + 1:index + 2]
            if not escaped or escaped.isalnum() or escaped.isspace():
                break                           # \d, \w, \A, \1...: not one character
            text.append(escaped)
            index += 2
            continue
        if char in OPTIONAL:
            if text:
                text.pop()
            break
        if char in SPECIAL:
            break
        text.append(char)
        index += 1
    return "".join(text)


def rule_prefix(rule):
    """``rule``'s literal prefix when its matcher is a plain ``PathMatches`` (no flags that
    change what a character means), else ``""`` (the rule is a candidate for every
    path)."""
    matcher = rule.matcher
    if type(matcher) is not PathMatches:
        return ""
    regex = matcher.regex
    if regex.flags & ~(re.UNICODE | re.DOTALL):     # IGNORECASE, VERBOSE...: be safe
        return ""
    return literal_prefix(regex.pattern)


class RouteIndex:
    """The rules of one router filed by the ``/``-ending start of their literal prefix.

    Built from a router's ``rules`` list and rebuilt when that list is replaced or its
    length changes (``add_rules``, ``Application.add_handlers``), not when a rule is
    replaced in place (``rules[3] = Rule(...)``): after that, replace the list or call
    ``RouteIndex()`` afresh. Checking each rule's identity would cost every request a walk
    of the rules, the work the index saves."""

    def __init__(self):
        self._rules = None
        self._size = -1
        self._buckets = {}
        self._longest = 0
        self._depths = range(0)

    def _build(self, rules):
        buckets = {}
        for position, rule in enumerate(rules):
            prefix = rule_prefix(rule)
            buckets.setdefault(prefix[:prefix.rfind("/") + 1], []).append(position)
        self._rules, self._size, self._buckets = rules, len(rules), buckets
        self._longest = max(map(len, buckets), default=0)
        self._depths = range(max((key.count("/") for key in buckets), default=0))

    def candidates(self, rules, path):
        """The rules of ``rules`` that ``path`` could match, in their order. Looks up only
        the path's prefixes no longer and with no more ``/`` than the longest and the deepest
        filed one: the work is bounded by the routes, not by the path a client sends
        (``"/" * 65000``)."""
        if rules is not self._rules or len(rules) != self._size:
            self._build(rules)
        buckets = self._buckets
        positions = list(buckets.get("", ()))
        longest = self._longest
        end = path.find("/")
        for _ in self._depths:
            if not -1 < end < longest:
                break
            found = buckets.get(path[:end + 1])
            if found:
                positions += found
            end = path.find("/", end + 1)
        positions.sort()
        return [rules[position] for position in positions]
