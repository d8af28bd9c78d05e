"""``DatabaseCommand``: before_open → after_open → run with ``self.db`` open, then closed."""
import argparse
import io

from core.conf import load_settings
from core.management import CommandError, DatabaseCommand, run_command
from core.registry import Registry


class Recorder(DatabaseCommand):
    name = "recorder"

    def __init__(self, settings, fail=None, stop_early=False):
        super().__init__(settings=settings, registry=Registry(installed_apps=[]).load(),
                         stdout=io.StringIO(), stderr=io.StringIO())
        self.calls, self.fail, self.stop_early, self.seen_db = [], fail, stop_early, None

    async def before_open(self, args):
        self.calls.append(("before_open", self.db))
        return 0 if self.stop_early else None

    async def after_open(self, args):
        self.calls.append(("after_open", self.db is not None))

    async def run(self, args):
        self.seen_db = self.db
        await self.db.ping()
        self.calls.append(("run", True))
        if self.fail:
            raise CommandError(self.fail)
        return 3


def settings(tmp_path):
    return load_settings("settings.test", environ={}, VAR_DIR=tmp_path / "var",
                         DATABASE_URL=f"embedded:{tmp_path / 'db' / 'x.sqlite3'}")


def test_the_hooks_run_in_order_and_run_gives_the_exit_status(tmp_path):
    command = Recorder(settings(tmp_path))
    assert run_command(command, argparse.Namespace()) == 3
    assert command.calls == [("before_open", None), ("after_open", True), ("run", True)]
    assert command.db is None and command.seen_db._closed


def test_before_open_may_finish_without_opening_the_database(tmp_path):
    command = Recorder(settings(tmp_path), stop_early=True)
    assert run_command(command, argparse.Namespace()) == 0
    assert command.calls == [("before_open", None)]
    assert not (tmp_path / "db").exists()                     # never connected


def test_an_error_in_run_is_one_line_and_still_closes_the_database(tmp_path):
    command = Recorder(settings(tmp_path), fail="nothing to do")
    stderr = io.StringIO()
    assert run_command(command, argparse.Namespace(), stderr=stderr) == 1
    assert stderr.getvalue() == "error: nothing to do\n"
    assert command.db is None and command.seen_db._closed         # closed all the same
