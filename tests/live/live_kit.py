"""Helpers for the live-update tests (fixtures are in conftest.py).

* ``make_settings`` — ``settings.test`` with the audit, accounts and admin_demo apps and
  short live intervals (re-check 0.3 s, feed 0.05 s), in memory.
* ``note_form`` — the add form of a ``notes.note``.
* The WebSocket client is ``support.live.LiveClient``; the served site and browsers are
  ``support.CheckedSite`` / ``CheckedBrowser``.
"""
import support

LIST = "/admin/notes/note/"
APPS = ["core.audit", "apps.accounts", "admin_demo"]
FAST = dict(LIVE_RECHECK_SECONDS=0.3, LIVE_FEED_INTERVAL=0.05)


def make_settings(tmp_path, **overrides):
    values = dict(FAST)
    values.update(overrides)
    return support.make_settings(tmp_path, APPS, **values)


def note_form(**overrides):
    form = {"title": "Buy milk", "body": "", "kind": "todo", "rank": "5", "category": ""}
    form.update(overrides)
    return form
