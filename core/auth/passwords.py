"""Password hashing (bcrypt, off the event loop) and password validation.

    from core.auth.passwords import hash_password, verify_password, validate_password

    validate_password("correct horse battery", username="alice")  # raises PasswordError
    hashed = await hash_password("correct horse battery")         # "$2b$12$..."
    await verify_password("correct horse battery", hashed)        # True

bcrypt is deliberately slow, so every hash and check runs in a bounded thread
pool (``bcrypt_executor``): the event loop keeps serving other requests meanwhile. The work factor
is ``settings.BCRYPT_ROUNDS`` (12 by default; the test settings use 4).

``dummy_verify()`` costs what a real check costs. Call it when a login names an
unknown user, so the response time does not tell which usernames exist. Both
cost ``BCRYPT_ROUNDS``: a check against a hash made at a lower cost (before the
setting was raised) is padded with dummy checks at costs ``stored ..
configured - 1`` (2^s + 2^s + ... + 2^(c-1) = 2^c), and the login rehashes a
right password at the configured cost (``needs_rehash``). A hash made at a
*higher* cost cannot be padded down: it is rehashed at the owner's next login.

bcrypt only reads the first 72 bytes of a password (bcrypt 5 refuses longer
ones); ``validate_password`` and ``hash_password`` reject them with a clear
message instead of silently truncating.
"""
import asyncio
import difflib
import functools
import os
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import bcrypt

from core.models.errors import ValidationError

__all__ = [
    "MAX_PASSWORD_BYTES", "MIN_PASSWORD_LENGTH", "PasswordError", "common_passwords",
    "dummy_verify", "hash_password", "hash_rounds", "needs_rehash", "validate_password",
    "verify_password",
]

DEFAULT_ROUNDS = 12
MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_BYTES = 72
MAX_SIMILARITY = 0.7
COMMON_PASSWORDS_FILE = Path(__file__).with_name("common-passwords.txt")


class PasswordError(ValidationError):
    """The password breaks one or more rules; ``messages`` lists each, in plain words.

    A ``ValidationError`` on the field ``password``, so forms show it next to
    the field; ``str(error)`` is every message joined into one line.
    """

    def __init__(self, messages, field="password"):
        if isinstance(messages, str):
            messages = [messages]
        self.messages = list(messages)
        super().__init__(" ".join(self.messages), field=field, code="password")

    def __str__(self):
        return " ".join(self.messages)


def _rounds(rounds=None):
    if rounds is not None:
        return int(rounds)
    try:
        from core.conf import settings
        value = settings.get("BCRYPT_ROUNDS", DEFAULT_ROUNDS)
    except Exception:  # settings cannot load (e.g. a bare library use): the safe default
        return DEFAULT_ROUNDS
    return int(value) if value else DEFAULT_ROUNDS


def _encode(password):
    if not isinstance(password, str):
        raise TypeError(f"a password is a str, not {type(password).__name__}")
    return password.encode("utf-8")


def _too_long_message():
    return (f"This password is too long: at most {MAX_PASSWORD_BYTES} bytes "
            f"(UTF-8) are allowed.")


_executor = None
_executor_pid = None


#: how much nicer (lower CPU priority) than the rest of the process bcrypt's threads run
BCRYPT_THREAD_NICENESS = 10


def _lower_thread_priority():
    """Run by each bcrypt thread as it starts: raise its own niceness by
    ``BCRYPT_THREAD_NICENESS`` (Linux: a thread's id is a ``PRIO_PROCESS`` target,
    so only this thread is affected; elsewhere nothing happens)."""
    get_native_id = getattr(threading, "get_native_id", None)
    if get_native_id is None or not hasattr(os, "setpriority"):
        return
    try:
        tid = get_native_id()
        os.setpriority(os.PRIO_PROCESS, tid,
                       min(19, os.getpriority(os.PRIO_PROCESS, tid) + BCRYPT_THREAD_NICENESS))
    except OSError:
        pass


def bcrypt_executor():
    """The thread pool every bcrypt call runs in: CPUs − 1 threads (at least one).

    bcrypt releases the GIL, so a pool this size keeps a core free for the event
    loop during a login storm; extra calls queue instead of competing. Its threads
    run at a lower CPU priority (``BCRYPT_THREAD_NICENESS``): when the machine is
    busier than that (other processes, the storm's own clients), the scheduler
    gives the event loop's thread the core first, so requests that are not logins
    keep their latency and logins wait instead (the tail of ``bench/login.py``).
    Created per process (after ``runserver --processes`` forks).
    """
    global _executor, _executor_pid
    if _executor is None or _executor_pid != os.getpid():
        workers = max(1, (os.cpu_count() or 2) - 1)
        _executor = ThreadPoolExecutor(workers, thread_name_prefix="bastion-bcrypt",
                                       initializer=_lower_thread_priority)
        _executor_pid = os.getpid()
    return _executor


async def _in_executor(func, *args):
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(bcrypt_executor(), functools.partial(func, *args))


async def hash_password(password, rounds=None):
    """The bcrypt hash (a ``str`` like ``"$2b$12$..."``) of ``password``.

    Runs in a worker thread. ``rounds`` defaults to ``settings.BCRYPT_ROUNDS``.
    Raises ``PasswordError`` for a password longer than 72 bytes. It does not
    run ``validate_password``: call that first where a person chose the password.
    """
    raw = _encode(password)
    if len(raw) > MAX_PASSWORD_BYTES:
        raise PasswordError(_too_long_message())
    salt = bcrypt.gensalt(_rounds(rounds))
    hashed = await _in_executor(bcrypt.hashpw, raw, salt)
    return hashed.decode("ascii")


def _check(raw, hashed, pad_to):
    """``bcrypt.checkpw``, then dummy checks bringing a cheaper hash's cost up to ``pad_to``."""
    try:
        right = bcrypt.checkpw(raw, hashed)
    except ValueError:  # a malformed hash
        right = False
    stored = hash_rounds(hashed)
    if stored is not None and stored < pad_to:
        for rounds in range(max(stored, 4), pad_to):   # 2^s + sum(2^s..2^(c-1)) = 2^c
            _dummy_check(rounds)
    return right


async def verify_password(password, hashed, rounds=None):
    """True when ``password`` matches the bcrypt ``hashed``; runs in a worker thread.

    Costs at least a check at ``rounds`` (default ``settings.BCRYPT_ROUNDS``): a
    hash of a lower cost is padded with dummy checks. A missing or malformed
    hash, or a password bcrypt cannot take (over 72 bytes, not a str), is a
    plain ``False`` after the same work as a real check.
    """
    if not isinstance(password, str) or not isinstance(hashed, (str, bytes)) or not hashed:
        await dummy_verify(rounds)
        return False
    raw = password.encode("utf-8")
    hashed = hashed.encode("ascii", "replace") if isinstance(hashed, str) else hashed
    if len(raw) > MAX_PASSWORD_BYTES or not hashed.startswith(b"$2"):
        await dummy_verify(rounds)
        return False
    return await _in_executor(_check, raw, hashed, _rounds(rounds))


_dummy_hashes = {}


def _dummy_hash(rounds):
    hashed = _dummy_hashes.get(rounds)
    if hashed is None:
        hashed = bcrypt.hashpw(b"bastion-dummy-password", bcrypt.gensalt(rounds))
        _dummy_hashes[rounds] = hashed
    return hashed


def _dummy_check(rounds):
    bcrypt.checkpw(b"not-the-dummy-password", _dummy_hash(rounds))
    return False


async def dummy_verify(rounds=None):
    """Spend the time of one real ``verify_password`` and return ``False``.

    For a login with an unknown username (or a user without a usable
    password): answering at once would tell an attacker which usernames exist.
    The dummy hash has cost ``rounds`` (default ``settings.BCRYPT_ROUNDS``), one
    per cost, made on first use. Runs in a worker thread.
    """
    return await _in_executor(_dummy_check, _rounds(rounds))


def hash_rounds(hashed):
    """The work factor of a bcrypt hash (``"$2b$12$..."`` → 12), or ``None`` if not one."""
    if isinstance(hashed, bytes):
        hashed = hashed.decode("ascii", "replace")
    match = re.match(r"^\$2[abxy]\$(\d\d)\$", hashed or "") if isinstance(hashed, str) \
        else None
    return int(match.group(1)) if match else None


def needs_rehash(hashed, rounds=None):
    """True when ``hashed`` was made with another work factor than the current one."""
    stored = hash_rounds(hashed)
    return stored is None or stored != _rounds(rounds)


# -- validation -------------------------------------------------------------------------------

@functools.lru_cache(maxsize=1)
def common_passwords():
    """The set of common passwords (lower case) from ``core/auth/common-passwords.txt``."""
    lines = COMMON_PASSWORDS_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip().lower() for line in lines
                     if line.strip() and not line.startswith("#"))


def _similar_to(password, value):
    """True when ``password`` is too close to ``value`` or one of its parts."""
    if not value:
        return False
    value = value.lower()
    parts = {value, *re.split(r"\W+", value)}
    for part in parts:
        if len(part) < 3:
            continue
        if difflib.SequenceMatcher(a=password, b=part).ratio() >= MAX_SIMILARITY:
            return True
    return False


def validate_password(password, username=None, email=None):
    """Raise ``PasswordError`` listing every rule ``password`` breaks; return ``None`` if fine.

    Rules: at least 10 characters; at most 72 bytes (bcrypt's limit); not only
    digits; not too similar (difflib ratio >= 0.7) to the username, the email
    or the email's local part; not a common password.
    """
    if not isinstance(password, str):
        raise PasswordError("Enter a password.")
    messages = []
    if len(password) < MIN_PASSWORD_LENGTH:
        messages.append(f"This password is too short: it must contain at least "
                        f"{MIN_PASSWORD_LENGTH} characters.")
    if len(password.encode("utf-8")) > MAX_PASSWORD_BYTES:
        messages.append(_too_long_message())
    if password.isdigit():
        messages.append("This password is entirely numeric.")
    lowered = password.lower()
    attributes = [("username", username)]
    if email:
        attributes.append(("email address", email))
        attributes.append(("email address", email.partition("@")[0]))
    for label, value in attributes:
        if isinstance(value, str) and _similar_to(lowered, value):
            messages.append(f"This password is too similar to the {label}.")
            break
    if lowered.strip() in common_passwords():
        messages.append("This password is too common.")
    if messages:
        raise PasswordError(messages)
