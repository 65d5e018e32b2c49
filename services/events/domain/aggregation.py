"""Counts of events per time bucket, optionally per group: what a dashboard draws."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import IntEnum
from zoneinfo import ZoneInfo

from services.events.domain.query import ATTRIBUTES, EventQuery
from services.events.domain.rules import KEY as KEY_PATTERN
from services.support.runtime.clock import zone_named
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
    time_zone: str = ""
    """An IANA zone the days start at midnight in; "" for UTC."""

    @property
    def day_zone(self) -> ZoneInfo | None:
        """The zone of local days, when the buckets are days of a time zone (not UTC's)."""
        if self.interval != Interval.DAY or not self.time_zone:
            return None
        return zone_named(self.time_zone)


@dataclass(frozen=True, slots=True)
class Count:
    start_time: datetime
    key: str
    count: int


def build_aggregation(
    *,
    start: datetime | None,
    end: datetime | None,
    interval: int,
    group_by: str,
    query: EventQuery,
    top: int,
    time_zone: str = "",
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
    if time_zone and zone_named(time_zone) is None:
        raise InvalidArgument.field("time_zone", "must be an IANA time zone such as America/New_York")
    top = min(top or DEFAULT_TOP, MAX_TOP)
    return Aggregation(start, end, Interval(interval), group_by, query, top, time_zone)


def _attribute_key(group_by: str) -> bool:
    return group_by.startswith(ATTRIBUTES) and KEY_PATTERN.fullmatch(group_by[len(ATTRIBUTES) :]) is not None


def bucket_start(moment: datetime, aggregation: Aggregation) -> datetime:
    """The start of the bucket `moment` falls in: aligned on the epoch, in UTC, or the start of its local day."""
    width = aggregation.interval.width
    if width is None:
        return aggregation.start
    if (zone := aggregation.day_zone) is not None:
        return day_start(moment.astimezone(zone).date(), zone)
    epoch = datetime(1970, 1, 1, tzinfo=moment.tzinfo)
    return moment - (moment - epoch) % width


def day_start(day: date, zone: ZoneInfo) -> datetime:
    """The first instant of `day` in `zone`, in UTC: its midnight, the first of two where clocks went back to
    repeat it, or the moment the day began where clocks jumped over midnight (fold=0 gives both)."""
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)
