"""The AIP-160 subset of List/Watch/Aggregate: what it accepts, what it refuses, what it matches."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from services.events.domain.aggregation import Interval, bucket_start, build_aggregation
from services.events.domain.model import Category, EventRecord
from services.events.domain.query import EventQuery, build_query, parse_filter
from services.support.runtime.errors import InvalidArgument

T = datetime(2026, 12, 1, 12, 30, tzinfo=UTC)
LOAN = EventRecord(
    id=uuid.uuid4(),
    type="athenaeum.loans.loan_issued",
    category=Category.AUDIT,
    occur_time=T,
    record_time=T,
    actor="users/librarian",
    subject="loans/1",
    source="loans",
    attributes={"loan.book": "books/9", "loan.patron": "users/ada"},
    resources=("loans/1", "books/9", "users/ada"),
)


def matches(text: str, record: EventRecord = LOAN) -> bool:
    return EventQuery(parse_filter(text)).matches(record)


@pytest.mark.parametrize(
    "text",
    [
        'type = "athenaeum.loans.*"',
        'actor = "users/librarian" AND category = AUDIT',
        'resource = "users/ada"',
        'resource = "books/*"',
        'attributes.loan.book = "books/9"',
        'attributes.missing != "x"',
        "occur_time >= 2026-12-01T12:00:00Z AND occur_time < 2026-12-01T13:00:00+00:00",
        'subject != "loans/2"',
        "category = EVENT_CATEGORY_AUDIT",
    ],
)
def test_a_filter_in_the_subset_matches_the_event(text: str) -> None:
    assert matches(text)


@pytest.mark.parametrize(
    "text",
    [
        'type = "athenaeum.users.*"',
        'resource = "users/bob"',
        "category = ACTIVITY",
        "occur_time < 2026-12-01T00:00:00Z",
    ],
)
def test_a_filter_that_does_not_hold_does_not_match(text: str) -> None:
    assert not matches(text)


@pytest.mark.parametrize(
    "text",
    [
        'type = "a" OR type = "b"',
        "password = 1",
        'type > "a"',
        "occur_time = 2026-12-01T00:00:00Z",
        "occur_time > yesterday",
        "occur_time > 2026-12-01T00:00:00",
        "category = SOMETIMES",
        'type = "unterminated',
        "type =",
        "(type = a)",
        "type = a AND",
        "x" * 3000,
        " AND ".join(["type = a"] * 20),
        "type\x00 = a",
        'actor = "\x00"',
        'subject = "' + "s" * 2000 + '"',
        "attributes. = a",
        'occur_time > "0001-01-01T00:00:00+01:00"',  # before the year 1 in UTC (it answered INTERNAL)
        'occur_time < "9999-12-31T23:59:59-01:00"',  # after the year 9999 in UTC
    ],
)
def test_a_filter_outside_the_subset_is_refused_with_the_filter_field(text: str) -> None:
    with pytest.raises(InvalidArgument) as refused:
        parse_filter(text)
    assert [v.field for v in refused.value.violations] == ["filter"]


def test_request_fields_and_filter_combine_and_a_type_ending_in_a_dot_is_a_prefix() -> None:
    query = build_query(type="athenaeum.loans.", category=2, filter='actor = "users/librarian"')
    assert query.matches(LOAN)
    assert not build_query(type="athenaeum.loans").matches(LOAN)
    with pytest.raises(InvalidArgument):
        build_query(start_time=T, end_time=datetime(2026, 1, 1, tzinfo=UTC))
    for hostile in ({"actor": "users/\x00"}, {"subject": "\x1b[31m"}, {"type": "t" * 2000}):
        with pytest.raises(InvalidArgument):
            build_query(**hostile)


def test_time_bounds_come_from_the_tightest_conditions() -> None:
    query = build_query(start_time=T, filter="occur_time < 2026-12-02T00:00:00Z AND occur_time > 2026-12-01T13:00:00Z")
    assert query.bounds() == (datetime(2026, 12, 1, 13, tzinfo=UTC), datetime(2026, 12, 2, tzinfo=UTC))


def test_an_aggregation_needs_a_range_of_at_most_ten_thousand_buckets() -> None:
    with pytest.raises(InvalidArgument):
        build_aggregation(start=None, end=T, interval=1, group_by="", query=EventQuery(), top=0)
    with pytest.raises(InvalidArgument):
        build_aggregation(start=T, end=T, interval=1, group_by="", query=EventQuery(), top=0)
    with pytest.raises(InvalidArgument):
        build_aggregation(
            start=datetime(2000, 1, 1, tzinfo=UTC), end=T, interval=1, group_by="", query=EventQuery(), top=0
        )
    with pytest.raises(InvalidArgument):
        build_aggregation(
            start=datetime(2000, 1, 1, tzinfo=UTC), end=T, interval=9, group_by="", query=EventQuery(), top=0
        )
    for bad in ("password", "attributes.", "attributes.a b"):
        with pytest.raises(InvalidArgument):
            build_aggregation(
                start=datetime(2026, 1, 1, tzinfo=UTC), end=T, interval=3, group_by=bad, query=EventQuery(), top=0
            )
    whole = build_aggregation(
        start=datetime(2000, 1, 1, tzinfo=UTC),
        end=T,
        interval=0,
        group_by="attributes.loan.book",
        query=EventQuery(),
        top=5000,
    )
    assert whole.top == 1000 and whole.interval == Interval.WHOLE_RANGE


def test_buckets_are_aligned_in_utc() -> None:
    hourly = build_aggregation(
        start=datetime(2026, 12, 1, tzinfo=UTC), end=T, interval=2, group_by="", query=EventQuery(), top=0
    )
    assert bucket_start(datetime(2026, 12, 1, 10, 59, 59, tzinfo=UTC), hourly) == datetime(2026, 12, 1, 10, tzinfo=UTC)
