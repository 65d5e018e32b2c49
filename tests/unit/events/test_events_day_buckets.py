"""Day buckets of a time zone: AggregateEvents' optional time_zone makes a day run from local midnight to local
midnight there (a dashboard's "loans per day" in New York counted a loan at 20:00 on the next day)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

import pytest
from fakes import FakeUnitOfWork

from services.events.app.querying import aggregate_events
from services.events.app.recording import store_events
from services.events.domain.aggregation import Interval, bucket_start, build_aggregation, day_start
from services.events.domain.model import Category, EventRecord
from services.events.domain.query import EventQuery
from services.support.runtime.errors import InvalidArgument

TYPE = "athenaeum.loans.loan_issued"
START, END = datetime(2026, 3, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC)


def days(time_zone: str, interval: Interval = Interval.DAY):
    return build_aggregation(start=START, end=END, interval=interval, group_by="", query=EventQuery(), top=0,
                             time_zone=time_zone)  # fmt: skip


def utc(*fields: int) -> datetime:
    return datetime(*fields, tzinfo=UTC)  # type: ignore[misc]


@pytest.mark.parametrize("wrong", ["Mars/Base", "localtime", "Factory", "posix/Europe/Moscow", "Europe", "+03:00"])
def test_a_time_zone_that_is_no_place_is_refused_naming_the_field(wrong: str) -> None:
    with pytest.raises(InvalidArgument) as refused:
        days(wrong)
    assert [v.field for v in refused.value.violations] == ["time_zone"]
    assert wrong not in str(refused.value)


def test_a_new_york_day_starts_at_midnight_there_and_lasts_23_or_25_hours_across_a_clock_change() -> None:
    new_york = days("America/New_York")
    assert bucket_start(utc(2026, 12, 21, 0, 30), new_york) == utc(2026, 12, 20, 5)  # 19:30 EST on the 20th
    assert bucket_start(utc(2026, 3, 9, 3, 59), new_york) == utc(2026, 3, 8, 5)  # the 23-hour day's last minute
    assert bucket_start(utc(2026, 3, 9, 4, 0), new_york) == utc(2026, 3, 9, 4)
    assert bucket_start(utc(2026, 11, 2, 4, 59), new_york) == utc(2026, 11, 1, 4)  # the 25-hour day's last minute
    assert bucket_start(utc(2026, 11, 2, 5, 0), new_york) == utc(2026, 11, 2, 5)


def test_without_a_time_zone_and_for_hours_buckets_stay_utc() -> None:
    assert bucket_start(utc(2026, 12, 21, 0, 30), days("")) == utc(2026, 12, 21)
    hourly = days("Asia/Kathmandu", Interval.HOUR)
    assert hourly.day_zone is None and bucket_start(utc(2026, 12, 21, 0, 30), hourly) == utc(2026, 12, 21, 0)


def test_a_day_whose_midnight_is_skipped_or_repeated_starts_at_its_first_instant() -> None:
    assert day_start(date(2026, 9, 6), days("America/Santiago").day_zone) == utc(2026, 9, 6, 4)  # 01:00 -03
    assert day_start(date(2026, 11, 1), days("America/Havana").day_zone) == utc(2026, 11, 1, 4)  # the first 00:00


async def test_loans_per_day_are_counted_on_the_library_day_they_happened() -> None:
    uow = FakeUnitOfWork()
    evening = [utc(2026, 12, 21, 1), utc(2026, 12, 21, 3)]  # 20:00 and 22:00 EST on Sunday the 20th
    morning = [utc(2026, 12, 21, 14)]  # 09:00 EST on Monday
    issued = [
        EventRecord(category=Category.AUDIT, occur_time=at, record_time=at, id=uuid.uuid4(), type=TYPE)
        for at in evening + morning
    ]
    await store_events(issued, uow=uow)
    counted = await aggregate_events(days("America/New_York"), uow=uow)
    assert [(c.start_time, c.count) for c in counted] == [(utc(2026, 12, 20, 5), 2), (utc(2026, 12, 21, 5), 1)]
    in_utc = await aggregate_events(days(""), uow=uow)
    assert [(c.start_time, c.count) for c in in_utc] == [(utc(2026, 12, 21), 3)]
