"""Time zones: datetimes are stored in UTC and shown and entered in the user's zone.

The zone of a request is the user's ``time_zone`` preference when they have one, else
the ``TIME_ZONE`` setting (default ``UTC``)::

    zone = zone_for(user, settings)                  # a ZoneInfo
    format_datetime(moment, zone)                    # "2024-05-01 14:30 CEST"
    local_input(moment, zone)                        # naive local time for a form input
    from_local_input(naive, zone)                    # aware UTC; NonexistentTime in a DST gap

A date without a time (``DateField``) is never shifted. The JSON API stays in UTC
(ISO 8601), whatever the user's zone.
"""
import datetime
import zoneinfo

__all__ = ["NonexistentTime", "UTC", "format_datetime", "from_local_input", "get_zone",
           "is_zone_name", "local_input", "zone_for"]

UTC = datetime.timezone.utc
DEFAULT_ZONE = "UTC"


class NonexistentTime(ValueError):
    """A local time the clocks skip (the hour lost when daylight saving time starts)."""


def is_zone_name(name):
    """Whether ``name`` is a zone the system's tz database knows (``Europe/Paris``)."""
    if not isinstance(name, str) or not name or len(name) > 64 or name.startswith("/") \
            or ".." in name:
        return False
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return False
    return True


def get_zone(name):
    """The ``ZoneInfo`` for ``name``; UTC for an empty or unknown name."""
    return zoneinfo.ZoneInfo(name) if is_zone_name(name) else zoneinfo.ZoneInfo(DEFAULT_ZONE)


def zone_for(user, settings):
    """The zone a user sees times in: their preference, else ``TIME_ZONE``."""
    preferred = getattr(user, "time_zone", None) if user is not None else None
    return get_zone(preferred or settings.get("TIME_ZONE") or DEFAULT_ZONE)


def format_datetime(value, zone=None, seconds=False):
    """``value`` (aware, or naive meaning UTC) in ``zone``, with the zone's abbreviation."""
    zone = zone or zoneinfo.ZoneInfo(DEFAULT_ZONE)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    local = value.astimezone(zone)
    text = local.strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")
    return f"{text} {local.tzname() or zone.key}"


def local_input(value, zone):
    """An aware datetime as the naive local time a ``datetime-local`` input shows."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(zone).replace(tzinfo=None)


def from_local_input(naive, zone):
    """A naive local time typed by the user → aware UTC.

    An ambiguous time (the repeated hour when daylight saving time ends) is the
    first of the two; a time the clocks skip is ``NonexistentTime``.
    """
    local = naive.replace(tzinfo=zone, fold=0)
    if local.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != naive:
        raise NonexistentTime(f"{naive:%Y-%m-%d %H:%M} does not exist in {zone.key} (the "
                              "clocks skip that hour).")
    return local.astimezone(UTC)
