"""The wake folder's fallbacks (``core.live.wake``): a database path too long for a UNIX
socket moves the folder to the temp folder; a folder that is not this user's own private
one (group- or world-writable, a symlink, someone else's) is refused, leaving polling."""
import asyncio
import logging
import os
import shutil
import tempfile
from pathlib import Path

import pytest

from core.live.wake import MAX_SOCKET_PATH, SOCKET_NAME_ROOM, LocalWake, folder_for


def test_a_short_database_path_keeps_its_folder_beside_it():
    short = Path(tempfile.mkdtemp(prefix="bw"))
    try:
        database = short / "bastion.sqlite3"
        assert folder_for(database) == Path(str(database) + ".live")
    finally:
        shutil.rmtree(short)


def test_a_long_database_path_gets_a_short_folder_in_the_temp_folder(tmp_path):
    deep = tmp_path / ("d" * 60) / ("e" * 60)
    database = deep / "bastion.sqlite3"
    assert len(str(database) + ".live") + SOCKET_NAME_ROOM > MAX_SOCKET_PATH
    folder = folder_for(database)
    assert folder.parent == Path(tempfile.gettempdir())
    assert folder.name.startswith(f"bastion-live-{os.getuid()}-")
    assert len(str(folder)) + SOCKET_NAME_ROOM <= MAX_SOCKET_PATH
    assert folder_for(database) == folder                         # every process agrees
    assert folder_for(deep / "other.sqlite3") != folder           # one per database


async def woken_pair(folder):
    """Two wakes in ``folder``: ``(first, second, second's wake-ups)``."""
    calls = []
    first, second = LocalWake(folder, lambda: None), LocalWake(folder, lambda: calls.append(1))
    return first, second, calls


async def test_a_private_folder_is_used_and_wakes_the_other_process(tmp_path):
    first, second, calls = await woken_pair(tmp_path / "db.live")
    try:
        assert first.start() and second.start()
        assert (tmp_path / "db.live").stat().st_mode & 0o777 == 0o700
        first.notify()
        for _ in range(50):
            if calls:
                break
            await asyncio.sleep(0.02)
        assert calls
    finally:
        first.stop()
        second.stop()
    assert not (tmp_path / "db.live").exists()          # the last one out removes it


@pytest.mark.parametrize("mode", [0o770, 0o702], ids=["group-writable", "world-writable"])
async def test_a_folder_others_may_write_to_is_refused(tmp_path, mode, caplog):
    folder = tmp_path / "db.live"
    folder.mkdir()
    os.chmod(folder, mode)
    wake = LocalWake(folder, lambda: None)
    with caplog.at_level(logging.INFO, logger="bastion.live"):
        assert wake.start() is False
    assert wake.sock is None and list(folder.iterdir()) == []    # no socket left behind
    assert "not this user's own folder" in caplog.text


async def test_a_symlink_in_place_of_the_folder_is_refused(tmp_path):
    real = tmp_path / "elsewhere"
    real.mkdir(mode=0o700)
    (tmp_path / "db.live").symlink_to(real, target_is_directory=True)
    wake = LocalWake(tmp_path / "db.live", lambda: None)
    assert wake.start() is False
    assert wake.sock is None and list(real.iterdir()) == []


@pytest.mark.skipif(os.getuid() != 0, reason="giving a folder to another user needs root")
async def test_someone_elses_folder_is_refused(tmp_path):
    folder = tmp_path / "db.live"
    folder.mkdir(mode=0o700)
    os.chown(folder, 65534, -1)
    wake = LocalWake(folder, lambda: None)
    assert wake.start() is False and wake.sock is None
