"""The library's calendar: the days it is closed (Koha's holidays, Evergreen's closed dates). Pure.

A loan, a renewal or a READY hold's pickup deadline that would end on a closed day ends at the end of the next
open day instead: the reader could not bring the book back, or collect it, on a day the doors stay shut. One
calendar for the whole library, in its time zone. Overdue days and fines still count every day of the calendar.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo

from services.loans.domain.periods import MAX_PERIOD_DAYS
from services.support.runtime.clock import end_of_day
from services.support.runtime.errors import FieldViolation, InvalidArgument, NotFound, collect_violations
from services.support.runtime.events import DomainEvent

ClosedDays = Collection[date]
"""The dates the library is closed, in its time zone (a frozenset where it is kept)."""

NO_CLOSED_DAYS: frozenset[date] = frozenset()

MAX_CLOSED_IN_A_ROW = 366
"""Past a year of closed days in a row the calendar is surely wrong: the date is kept rather than pushed on."""

EARLIEST = date(2000, 1, 1)
YEARS_AHEAD = 10
MAX_REASON = 200
COLLECTION = "closedDays"
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def next_open_day(day: date, closed: ClosedDays) -> date:
    """`day`, or the first day after it the library is open; `day` itself past MAX_CLOSED_IN_A_ROW closed days."""
    candidate = day
    for _ in range(MAX_CLOSED_IN_A_ROW + 1):
        if candidate not in closed:
            return candidate
        candidate += timedelta(days=1)
    return day


def end_of_open_day_after(start: datetime, days: int, zone: tzinfo, closed: ClosedDays = NO_CLOSED_DAYS) -> datetime:
    """The end of the library's day `days` days after the day of `start` (dates in `zone`), as UTC, moved on to
    the end of the next open day when the library is closed that day."""
    day = start.astimezone(zone).date() + timedelta(days=min(days, MAX_PERIOD_DAYS))
    return end_of_day(next_open_day(day, closed) if closed else day, zone)


def parse_date(text: str, *, field: str) -> date:
    """A YYYY-MM-DD date; InvalidArgument naming `field` otherwise."""
    try:
        if _DATE.fullmatch(text):
            return date.fromisoformat(text)
    except ValueError:
        pass
    raise InvalidArgument.field(field, "must be a date as YYYY-MM-DD")


def closed_day_name(day: date) -> str:
    return f"{COLLECTION}/{day.isoformat()}"


def parse_closed_day_name(name: str, *, field: str = "name") -> date:
    """The date of "closedDays/{YYYY-MM-DD}"; InvalidArgument otherwise."""
    collection, _, text = name.partition("/")
    if collection != COLLECTION or not _DATE.fullmatch(text):
        raise InvalidArgument.field(field, "must be closedDays/{YYYY-MM-DD}")
    return parse_date(text, field=field)


@dataclass(slots=True)
class ClosedDay:
    """A day the library is closed; identified by its date."""

    day: date
    reason: str
    created_at: datetime
    events: list[DomainEvent] = field(default_factory=list)

    @property
    def id(self) -> date:
        return self.day

    @property
    def name(self) -> str:
        return closed_day_name(self.day)

    @classmethod
    def create(cls, day: date, reason: str, *, now: datetime, zone: tzinfo) -> ClosedDay:
        """INVALID_ARGUMENT for a date before 2000 or more than ten years past today (in `zone`), or a long reason:
        a typo's year (20277) would otherwise close a day no loan will ever reach, and hide the day meant."""
        latest = _years_after(now.astimezone(zone).date(), YEARS_AHEAD)
        reason = reason.strip()
        collect_violations(
            None
            if EARLIEST <= day <= latest
            else FieldViolation("closed_day.date", f"must be from {EARLIEST} to {latest} (ten years ahead)"),
            None
            if len(reason) <= MAX_REASON
            else FieldViolation("closed_day.reason", f"must be at most {MAX_REASON} characters"),
        )
        closed = cls(day=day, reason=reason, created_at=now)
        closed.events.append(ClosedDayChanged(occurred_at=now, closed_day=closed))
        return closed

    def delete(self, *, now: datetime) -> None:
        self.events.append(ClosedDayChanged(occurred_at=now, closed_day=self, deleted=True))


def _years_after(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February, into a year without one
        return day.replace(year=day.year + years, day=28)


@dataclass(frozen=True, kw_only=True)
class ClosedDayChanged(DomainEvent):
    closed_day: ClosedDay
    deleted: bool = False


class ClosedDayNotFound(NotFound):
    def __init__(self, day: date) -> None:
        name = closed_day_name(day)
        super().__init__(name, f"the library is not closed on {day.isoformat()}")
