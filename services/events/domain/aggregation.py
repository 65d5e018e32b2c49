"""Counts of events per time bucket, optionally per group: what a dashboard draws."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import IntEnum

from services.events.domain.query import ATTRIBUTES, EventQuery
from services.events.domain.rules import KEY as KEY_PATTERN
from services.support.runtime.errors import InvalidArgument

MAX_BUCKETS = 10_000
MAX_COUNTS = 50_000
"""Counts one aggregation may return; more is refused (a narrower range, wider buckets or a lower top)."""
DEFAULT_TOP = 100
MAX_TOP = 1000
GROUP_FIELDS = ("type", "subject", "actor", "source")


class Interval(IntEnum):
    """The same numbers as the API's AggregationInterval; WHOLE_RANGE is one bucket."""

    WHOLE_RANGE = 0
    MINUTE = 1
    HOUR = 2
    DAY = 3

    @property
    def width(self) -> timedelta | None:
        return {1: timedelta(minutes=1), 2: timedelta(hours=1), 3: timedelta(days=1)}.get(self.value)


@dataclass(frozen=True, slots=True)
class Aggregation:
    start: datetime
    end: datetime
    interval: Interval
    group_by: str
    """"" (no groups), one of GROUP_FIELDS, or "attributes.<key>"."""
    query: EventQuery
    top: int


@dataclass(frozen=True, slots=True)
class Count:
    start_time: datetime
    key: str
    count: int


def build_aggregation(
    *, start: datetime | None, end: datetime | None, interval: int, group_by: str, query: EventQuery, top: int
) -> Aggregation:
    if start is None or end is None:
        raise InvalidArgument.field("start_time" if start is None else "end_time", "is required")
    if start >= end:
        raise InvalidArgument.field("start_time", "must be before end_time")
    if interval not in tuple(Interval):
        raise InvalidArgument.field("interval", "is not a known interval")
    width = Interval(interval).width
    if width is not None and (end - start) / width > MAX_BUCKETS:
        raise InvalidArgument.field("interval", f"the range holds more than {MAX_BUCKETS} buckets: widen them")
    if group_by and group_by not in GROUP_FIELDS and not _attribute_key(group_by):
        raise InvalidArgument.field("group_by", "must be type, subject, actor, source or attributes.<key>")
    if top < 0:
        raise InvalidArgument.field("top", "must not be negative")
    return Aggregation(start, end, Interval(interval), group_by, query, min(top or DEFAULT_TOP, MAX_TOP))


def _attribute_key(group_by: str) -> bool:
    return group_by.startswith(ATTRIBUTES) and KEY_PATTERN.fullmatch(group_by[len(ATTRIBUTES) :]) is not None


def bucket_start(moment: datetime, aggregation: Aggregation) -> datetime:
    """The start of the bucket `moment` falls in (buckets are aligned on the epoch, in UTC)."""
    width = aggregation.interval.width
    if width is None:
        return aggregation.start
    epoch = datetime(1970, 1, 1, tzinfo=moment.tzinfo)
    return moment - (moment - epoch) % width
