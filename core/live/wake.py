"""Cross-process wake-ups for processes sharing one embedded database file.

A process learns of another's writes by polling the audit log (``AuditFeed``,
every ``LIVE_FEED_INTERVAL``). On the embedded store every process sharing the
database is on this host (SQLite needs a local file), so they can also tell
each other at once: each binds a UNIX datagram socket in a folder next to the
database file (``<database>.live/``, mode 0700; when that path is too long for a
UNIX socket, ``bastion-live-<uid>-<hash of the path>/`` in the temp folder,
used only if this user owns it), and a process that stores an
event's audit entry sends one byte to each socket there (``notify``). The
receiver wakes its feed, which polls now instead of at the next interval: the
poll stays the only way events are read, so a lost or late datagram only
costs the interval, as before. Sockets of processes that are gone are removed
by the first sender that finds them dead.

MongoDB (and FerretDB) servers may be shared by processes on several hosts:
they keep polling (docs/live.md).
"""
import asyncio
import hashlib
import logging
import os
import socket
import stat
import tempfile
from pathlib import Path

log = logging.getLogger("bastion.live")

#: AF_UNIX paths longer than this do not bind (Linux: 108 bytes with the NUL; macOS 104)
MAX_SOCKET_PATH = 103
#: room for "/<pid>-<8 hex>.sock"
SOCKET_NAME_ROOM = 24


def wake_folder(database):
    """The folder of wake sockets for ``database``, or ``None`` when its processes do not
    share one (not an embedded file database, or no UNIX sockets)."""
    if getattr(database, "backend", None) != "embedded" or not hasattr(socket, "AF_UNIX"):
        return None
    return folder_for(database.path)


def folder_for(database_path):
    """``<database>.live`` when its sockets' paths fit, else a short one in the temp folder."""
    path = os.path.abspath(database_path)
    folder = Path(path + ".live")
    if len(str(folder)) + SOCKET_NAME_ROOM <= MAX_SOCKET_PATH:
        return folder
    digest = hashlib.sha256(path.encode()).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / f"bastion-live-{os.getuid()}-{digest}"


def _private(folder):
    """Is ``folder`` a real folder of this user that nobody else may write to?"""
    info = os.lstat(folder)
    return stat.S_ISDIR(info.st_mode) and info.st_uid == os.getuid() \
        and not info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


class LocalWake:
    """This process's wake socket in ``folder``: ``on_wake()`` runs (on the loop) when
    another process's ``notify()`` reaches it; ``notify()`` tells all the others."""

    def __init__(self, folder, on_wake):
        self.folder = Path(folder)
        self.on_wake = on_wake
        self.path = None
        self.sock = None
        self._loop = None
        self._notifying = False

    def start(self):
        """Bind this process's socket and listen (``False`` if that failed: polling only)."""
        try:
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            self.sock.setblocking(False)
            for attempt in range(3):      # a process stopping may remove the empty folder
                self.folder.mkdir(mode=0o700, exist_ok=True)
                if not _private(self.folder):
                    raise OSError(f"{self.folder} is not this user's own folder")
                self.path = self.folder / f"{os.getpid()}-{os.urandom(4).hex()}.sock"
                try:
                    self.sock.bind(str(self.path))
                    break
                except FileNotFoundError:
                    if attempt == 2:
                        raise
            self._loop = asyncio.get_running_loop()
            self._loop.add_reader(self.sock.fileno(), self._readable)
        except OSError as exc:
            log.info("live: no cross-process wake-ups (%s); other processes' writes are "
                     "read at the next poll", exc)
            self.stop()
            return False
        return True

    def stop(self):
        if self.sock is not None:
            if self._loop is not None:
                self._loop.remove_reader(self.sock.fileno())
            self.sock.close()
            self.sock = None
        if self.path is not None:
            try:
                self.path.unlink()
                self.folder.rmdir()        # the last process out leaves no folder behind
            except OSError:
                pass
            self.path = None

    def _readable(self):
        woken = False
        while self.sock is not None:
            try:
                self.sock.recv(64)
            except (BlockingIOError, InterruptedError):
                break
            except OSError:
                break
            woken = True
        if woken:
            self.on_wake()

    def notify(self):
        """Wake every other process's feed, once per loop iteration however many entries
        were stored in it (a bulk action): one datagram per process, never waits."""
        if self.sock is None or self._notifying:
            return
        self._notifying = True
        self._loop.call_soon(self._notify_now)

    def _notify_now(self):
        self._notifying = False
        if self.sock is None:
            return
        try:
            names = os.listdir(self.folder)
        except OSError:
            return
        own = self.path.name
        for name in names:
            if name == own or not name.endswith(".sock"):
                continue
            target = str(self.folder / name)
            try:
                self.sock.sendto(b"!", target)
            except (BlockingIOError, InterruptedError):
                pass                       # its queue is full: it is being woken anyway
            except (ConnectionRefusedError, FileNotFoundError):
                try:                       # nobody listens there: a process that is gone
                    os.unlink(target)
                except OSError:
                    pass
            except OSError:
                pass
