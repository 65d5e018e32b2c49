"""Time as an injectable dependency: aware UTC everywhere, a fixed clock in tests; time zones by name."""

from __future__ import annotations

import functools
from datetime import UTC, datetime, timedelta
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
            f"ATHENAEUM_LIBRARY_TIME_ZONE: {value[:64]!r} is not an IANA time zone (e.g. UTC, Europe/Moscow, "
            "America/New_York); names that are no place (localtime, Factory, posix/…, right/…) are refused"
        )
    return value


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
