"""Password reset tokens: single use, with a lifetime, and nothing stored.

    tokens = ResetTokens(cookie_secret, max_age=3600)
    token = tokens.make(user)              # "<time base36>-<32 hex>"
    tokens.check(user, token)              # True while valid

A token is the time it was made and an HMAC-SHA256 (under a key derived from
``COOKIE_SECRET`` for this purpose only) over the user's id, their current password hash,
their last login, their e-mail address and that time. It dies when any of them changes: once
the password is set (that is what makes it single-use without storing it), when the user logs
in, when their address changes, or after ``max_age`` seconds. Times are whole seconds; a
token from the future (beyond a minute of clock skew) is refused.
"""
import datetime
import hashlib
import hmac
import re
import time

__all__ = ["ResetTokens"]

TOKEN_RE = re.compile(r"^([0-9a-z]{1,13})-([0-9a-f]{32})$")
PURPOSE = b"bastion.password_reset\x00"
CLOCK_SKEW = 60


def _base36(number):
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    text = ""
    while True:
        number, rest = divmod(number, 36)
        text = digits[rest] + text
        if not number:
            return text


def _moment(value):
    """A stored datetime as whole UTC milliseconds (the precision MongoDB keeps), or ''."""
    if not isinstance(value, datetime.datetime):
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=datetime.timezone.utc)
    return str(int(value.timestamp() * 1000))


class ResetTokens:
    """Makes and checks the tokens of mailed password reset links."""

    def __init__(self, secret, max_age=3600, clock=time.time):
        if not secret:
            raise ValueError("reset tokens need the cookie secret")
        raw = secret.encode() if isinstance(secret, str) else bytes(secret)
        self.key = hmac.new(raw, PURPOSE, hashlib.sha256).digest()
        self.max_age = int(max_age)
        self.clock = clock

    def state(self, user):
        """What the token is bound to: id, password hash, last login, e-mail (override to add)."""
        return "\x00".join([str(user.id), user.password or "", _moment(user.last_login),
                            getattr(user, "email", None) or ""])

    def signature(self, user, made):
        text = f"{self.state(user)}\x00{made}".encode("utf-8")
        return hmac.new(self.key, text, hashlib.sha256).hexdigest()[:32]

    def make(self, user, now=None):
        """A token for ``user`` made ``now`` (default: the clock's time)."""
        made = int(self.clock() if now is None else now)
        return f"{_base36(made)}-{self.signature(user, made)}"

    def check(self, user, token, now=None):
        """True when ``token`` is ``user``'s, unexpired, and nothing it is bound to changed."""
        if user is None or not isinstance(token, str):
            return False
        match = TOKEN_RE.match(token)
        if match is None:
            return False
        made = int(match.group(1), 36)
        if not hmac.compare_digest(self.signature(user, made), match.group(2)):
            return False
        now = int(self.clock() if now is None else now)
        return made - CLOCK_SKEW <= now and now - made <= self.max_age
