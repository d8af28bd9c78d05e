"""Times are stored in UTC and shown and typed in the page's zone (TIME_ZONE here), named on
the page; a time the clocks skip is an error in place; the API stays in UTC."""
import datetime
import re
import zoneinfo

import pytest

from core.conf import ImproperlyConfigured, load_settings
from core.timezones import (NonexistentTime, format_datetime, from_local_input, get_zone,
                            is_zone_name, local_input, zone_for)
from support.pages import error_for

UTC = datetime.timezone.utc
PARIS = zoneinfo.ZoneInfo("Europe/Paris")
NOTES = "/admin/notes/note/"
WRITE = {"notes.note": ["read", "write"], "notes.category": ["read"]}


# -- the functions ----------------------------------------------------------------------
def test_format_names_the_zone_and_follows_daylight_saving():
    summer = datetime.datetime(2024, 7, 1, 12, 30, tzinfo=UTC)
    winter = datetime.datetime(2024, 1, 1, 12, 30, tzinfo=UTC)
    assert format_datetime(summer, PARIS) == "2024-07-01 14:30 CEST"
    assert format_datetime(winter, PARIS) == "2024-01-01 13:30 CET"
    assert format_datetime(summer) == "2024-07-01 12:30 UTC"
    assert format_datetime(summer.replace(tzinfo=None), PARIS) == "2024-07-01 14:30 CEST"


def test_local_input_round_trips_and_dst_edges():
    moment = datetime.datetime(2024, 7, 1, 12, 30, tzinfo=UTC)
    assert local_input(moment, PARIS) == datetime.datetime(2024, 7, 1, 14, 30)
    assert from_local_input(datetime.datetime(2024, 7, 1, 14, 30), PARIS) == moment
    with pytest.raises(NonexistentTime, match="does not exist in Europe/Paris"):
        from_local_input(datetime.datetime(2024, 3, 31, 2, 30), PARIS)
    # the repeated hour in October is the first one (still summer time, UTC+2)
    assert from_local_input(datetime.datetime(2024, 10, 27, 2, 30), PARIS) == \
        datetime.datetime(2024, 10, 27, 0, 30, tzinfo=UTC)


def test_zone_names():
    assert is_zone_name("Europe/Paris") and is_zone_name("UTC")
    for bad in ("", "Mars/Olympus", "../../etc/passwd", "/etc/localtime", None, 5):
        assert not is_zone_name(bad)
    assert get_zone("Mars/Olympus").key == "UTC"


def test_the_users_zone_wins_over_the_setting():
    settings = {"TIME_ZONE": "Europe/Paris"}

    class User:
        time_zone = "Asia/Tokyo"
    assert zone_for(User(), settings).key == "Asia/Tokyo"
    User.time_zone = ""
    assert zone_for(User(), settings).key == "Europe/Paris"
    assert zone_for(None, {}).key == "UTC"


@pytest.mark.parametrize("value", ["Mars/Olympus", "", "../x"])
def test_a_bad_time_zone_setting_is_refused_in_one_line(value):
    with pytest.raises(ImproperlyConfigured, match="TIME_ZONE must name a time zone"):
        load_settings("settings.test", environ={}, TIME_ZONE=value)


def test_time_zone_comes_from_the_environment():
    assert load_settings("settings.test", environ={"TIME_ZONE": "Asia/Tokyo"}).TIME_ZONE == \
        "Asia/Tokyo"


# -- pages ------------------------------------------------------------------------------
@pytest.fixture
async def writer(site):
    return await site.user_browser("writer", WRITE)


async def a_note(site, due):
    return await site.model("notes.note").create(title="Call", due=due, owner="writer",
                                                 db=site.db)


async def test_pages_show_times_in_the_zone_and_name_it(site, writer):
    note = await a_note(site, datetime.datetime(2024, 7, 1, 12, 30, tzinfo=UTC))
    detail = await writer.get(f"{NOTES}{note.id}/")
    assert "2024-07-01 14:30 CEST" in detail.text
    assert "times in Europe/Paris" in detail.text
    change = await writer.get(f"{NOTES}{note.id}/change/")
    assert re.search(r'name="due"[^>]*value="2024-07-01T14:30:00"', change.text)
    assert "Time zone: Europe/Paris." in change.text


async def test_a_typed_time_is_read_in_the_zone_and_stored_in_utc(site, writer):
    note = await a_note(site, None)
    response = await writer.post(f"{NOTES}{note.id}/change/", {
        "title": "Call", "kind": "memo", "due": "2024-01-15T09:00", "_version": "1"})
    assert response.code == 303, response.text[:1500]
    stored = await site.model("notes.note").get(note.id, db=site.db)
    assert stored.due == datetime.datetime(2024, 1, 15, 8, 0, tzinfo=UTC)
    api = await writer.get(f"/api/notes/note/{note.id}")
    assert '"due": "2024-01-15T08:00:00+00:00"' in api.text              # the API: UTC


async def test_a_time_the_clocks_skip_is_an_error_in_place(site, writer):
    note = await a_note(site, None)
    response = await writer.post(f"{NOTES}{note.id}/change/", {
        "title": "Call", "kind": "memo", "due": "2024-03-31T02:30", "_version": "1"})
    assert response.code == 200
    assert "does not exist in Europe/Paris" in error_for(response.text, "due")
    assert 'value="2024-03-31T02:30"' in response.text                 # the input is kept
    assert (await site.model("notes.note").get(note.id, db=site.db)).due is None


async def test_history_shows_changed_times_in_the_zone(site, writer):
    note = await a_note(site, None)
    await writer.post(f"{NOTES}{note.id}/change/", {
        "title": "Call", "kind": "memo", "due": "2024-07-01T14:30", "_version": "1"})
    history = await writer.get(f"{NOTES}{note.id}/history/")
    assert "2024-07-01 14:30:00 CEST" in history.text


async def test_save_as_new_reads_typed_times_in_the_zone_too(site, writer, monkeypatch):
    from admin_demo.admin import NoteAdmin
    monkeypatch.setattr(NoteAdmin, "save_as", True)
    note = await a_note(site, None)
    response = await writer.post(f"{NOTES}{note.id}/change/", {
        "title": "Copy", "kind": "memo", "due": "2024-01-15T09:00", "_version": "1",
        "_saveasnew": "1"})
    assert response.code == 303, response.text[:1500]
    copy = await site.model("notes.note").find_one({"title": "Copy"}, db=site.db)
    assert copy.id != note.id
    assert copy.due == datetime.datetime(2024, 1, 15, 8, 0, tzinfo=UTC)
