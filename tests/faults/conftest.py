"""Fixtures for the fault tests (crashes, kills, signals).

* ``spawned`` — a list to append ``subprocess.Popen`` objects to; every one still running
  after the test is killed with its whole process group (SIGKILL) and reaped.
"""
import os
import signal

import pytest


@pytest.fixture
def spawned():
    processes = []
    yield processes
    for process in processes:
        if process.poll() is None:
            try:
                os.killpg(process.pid, signal.SIGKILL)   # started with start_new_session
            except (ProcessLookupError, PermissionError):
                process.kill()
            process.wait(10)
