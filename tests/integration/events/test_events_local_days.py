"""Counts per day of a time zone in Postgres: days from local midnight to local midnight, 23 or 25 hours long
across a daylight-saving change, each bucket starting at the instant its day began there."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from services.events.app.querying import aggregate_events
from services.events.app.recording import store_events
from services.events.domain.aggregation import Interval, build_aggregation, day_start
from services.events.domain.model import Category, EventRecord
from services.events.domain.query import build_query
from services.support.runtime.clock import zone_named

pytestmark = pytest.mark.integration
TYPE = "athenaeum.loans.loan_issued"


def issued(at: datetime) -> EventRecord:
    return EventRecord(category=Category.AUDIT, occur_time=at, record_time=at, id=uuid.uuid4(), type=TYPE,
                       actor="users/desk")  # fmt: skip


async def days_of(events_db, zone: str, start: datetime, end: datetime) -> list[tuple[datetime, int]]:
    aggregation = build_aggregation(start=start, end=end, interval=Interval.DAY, group_by="",
                                    query=build_query(type=TYPE), top=0, time_zone=zone)  # fmt: skip
    return [(c.start_time, c.count) for c in await aggregate_events(aggregation, uow=events_db.uow())]


def utc(*fields: int) -> datetime:
    return datetime(*fields, tzinfo=UTC)  # type: ignore[misc]


async def test_new_york_days_run_midnight_to_midnight_across_both_clock_changes(events_db) -> None:
    moments = [
        utc(2026, 3, 8, 4, 59),  # Sat 7 Mar 23:59 EST
        utc(2026, 3, 8, 5, 0),  # Sun 8 Mar 00:00 EST: the 23-hour day begins
        utc(2026, 3, 9, 3, 59),  # Sun 8 Mar 23:59 EDT: its last minute
        utc(2026, 3, 9, 4, 0),  # Mon 9 Mar 00:00 EDT
        utc(2026, 11, 1, 4, 0),  # Sun 1 Nov 00:00 EDT: the 25-hour day begins
        utc(2026, 11, 2, 4, 59),  # Sun 1 Nov 23:59 EST: its last minute
        utc(2026, 11, 2, 5, 0),  # Mon 2 Nov 00:00 EST
    ]
    await store_events([issued(m) for m in moments], uow=events_db.uow())
    spring = await days_of(events_db, "America/New_York", utc(2026, 3, 7, 5), utc(2026, 3, 10, 4))
    assert spring == [(utc(2026, 3, 7, 5), 1), (utc(2026, 3, 8, 5), 2), (utc(2026, 3, 9, 4), 1)]
    autumn = await days_of(events_db, "America/New_York", utc(2026, 11, 1, 4), utc(2026, 11, 3, 5))
    assert autumn == [(utc(2026, 11, 1, 4), 2), (utc(2026, 11, 2, 5), 1)]
    in_utc = await days_of(events_db, "", utc(2026, 3, 7), utc(2026, 3, 10))
    assert in_utc == [(utc(2026, 3, 8), 2), (utc(2026, 3, 9), 2)]


async def test_a_day_starts_when_it_begins_where_clocks_skip_or_repeat_midnight(events_db) -> None:
    santiago = [utc(2026, 9, 6, 3, 59), utc(2026, 9, 6, 4, 0)]  # Sat 23:59 -04, then Sun 01:00 -03 (no 00:00)
    havana = [utc(2026, 11, 1, 4, 0), utc(2026, 11, 1, 5, 30)]  # Sun 00:00 CDT, then 00:30 CST (the second)
    await store_events([issued(m) for m in santiago + havana], uow=events_db.uow())
    assert await days_of(events_db, "America/Santiago", utc(2026, 9, 5, 4), utc(2026, 9, 7, 3)) == [
        (utc(2026, 9, 5, 4), 1),
        (utc(2026, 9, 6, 4), 1),
    ]
    assert await days_of(events_db, "America/Havana", utc(2026, 11, 1), utc(2026, 11, 2)) == [(utc(2026, 11, 1, 4), 2)]
    for zone, day in (("America/Santiago", date(2026, 9, 6)), ("America/Havana", date(2026, 11, 1))):
        first_instant = day_start(day, ZoneInfo(zone))
        assert first_instant.astimezone(ZoneInfo(zone)).date() == day
        assert (first_instant - timedelta(microseconds=1)).astimezone(ZoneInfo(zone)).date() < day


async def test_postgres_knows_every_zone_the_service_accepts(events_db) -> None:
    """The name is validated in Python and used by Postgres: one it did not know would fail the call."""
    from zoneinfo import available_timezones

    async with events_db.engine.connect() as connection:
        known = set((await connection.execute(sa.text("SELECT name FROM pg_timezone_names"))).scalars())
    accepted = {name for name in available_timezones() if zone_named(name) is not None}
    assert accepted - known == set()
