"""Time as an injectable dependency: aware UTC everywhere, a fixed clock in tests; time zones by name, and
where a day of one ends."""

from __future__ import annotations

import functools
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

NOT_PLACES = frozenset({"Factory", "localtime"})
"""Names in the zone database that are no place: "localtime" is whatever the server's clock is set to, and
"Factory" a placeholder that prints "-00"."""


@functools.cache
def _zone_names() -> frozenset[str]:
    return frozenset(available_timezones()) - NOT_PLACES


def zone_named(name: str) -> ZoneInfo | None:
    """The IANA time zone `name` ("Europe/Moscow"), or None for a name that is none. Only the database's
    zones count: ZoneInfo would also load any file under its folder ("posix/Europe/Moscow", "right/UTC", a
    folder such as "Europe" failing with IsADirectoryError)."""
    if name not in _zone_names():
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return None


def library_zone_name(value: str) -> str:
    """ATHENAEUM_LIBRARY_TIME_ZONE as the services that read it check it: a zone that is a place, or the
    ValueError that stops the service at start saying what is wrong."""
    if zone_named(value) is None:
        raise ValueError(
            "ATHENAEUM_LIBRARY_TIME_ZONE: the value is not an IANA time zone (e.g. UTC, Europe/Moscow, "
            "America/New_York); names that are no place (localtime, Factory, posix/…, right/…) are refused"
        )
    return value


SECOND = timedelta(seconds=1)
END_OF_DAY = time(23, 59, 59, fold=1)
"""The last second of a local day. fold=1: where the clocks go back at midnight (Santiago, Cairo) 23:59:59
happens twice, and the day ends at the second one."""
LAST_SECOND = datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)
"""The last second a Timestamp, datetime and Postgres's timestamptz all hold."""


def end_of_day(day: date, zone: tzinfo) -> datetime:
    """The last second of the day `day` (a date in `zone`), as UTC. Where the clocks jump over 23:59:59 (summer
    time beginning at 23:00, Nuuk; a day skipped whole, Samoa in 2011) the local time does not exist, and the
    day ends the second before the jump."""
    last = datetime.combine(day, END_OF_DAY, tzinfo=zone)
    if last.astimezone(UTC).astimezone(zone).replace(tzinfo=None) == last.replace(tzinfo=None):
        return last.astimezone(UTC).replace(fold=0)  # UTC has no second 23:59:59
    # In the gap fold=1 reads the time with the offset after the jump (an instant before it), fold=0 with the
    # offset before (one after it): the jump lies between, and the day ends the second before it.
    before, after = last.astimezone(UTC), last.replace(fold=0).astimezone(UTC)
    while after - before > SECOND:
        middle = before + (after - before) // SECOND // 2 * SECOND
        if middle.astimezone(zone).date() > day:
            after = middle
        else:
            before = middle
    return before


def end_of_local_day(instant: datetime, zone: tzinfo) -> datetime:
    """The last second (end_of_day) of the day in `zone` on which `instant` falls, as UTC: never before it. At
    the calendar's ends, where that day or its end lies outside the years 1-9999: in the year 9999 the last
    second there is (LAST_SECOND), in the year 1 the instant itself (a day over two thousand years ago)."""
    try:
        return end_of_day(instant.astimezone(zone).date(), zone)
    except OverflowError:
        return LAST_SECOND if instant.year == 9999 else instant.astimezone(UTC)


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock:
    """A clock that only moves when a test moves it."""

    def __init__(self, at: datetime) -> None:
        if at.tzinfo is None:
            raise ValueError("FixedClock needs an aware datetime")
        self._at = at.astimezone(UTC)

    def now(self) -> datetime:
        return self._at

    def advance(self, delta: timedelta) -> None:
        self._at += delta
