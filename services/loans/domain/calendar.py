"""The library's calendar: the days it is closed (Koha's holidays, Evergreen's closed dates). Pure.

A loan, a renewal or a READY hold's pickup deadline that would end on a closed day ends at the end of the next
open day instead: the reader could not bring the book back, or collect it, on a day the doors stay shut. One
calendar for the whole library, in its time zone. Nor is a reader fined for the days the library is closed
(Koha's noFinesWhenClosed, Evergreen's charge_when_closed=false): the chargeable overdue days, grace days
included, are the open days after the due date's. The days past due the reminders step by ("3 days overdue")
stay calendar days.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo

from services.loans.domain.periods import MAX_PERIOD_DAYS, date_in
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


def open_days_late(due_at: datetime, at: datetime, zone: tzinfo, closed: ClosedDays) -> int:
    """The library's open days begun since `due_at` by `at` (dates in `zone`): those after the due date's day up
    to `at`'s that it is not `closed`. A due time within its day (a hard due date kept to the instant) makes the
    rest of that day the first, when the library is open then. None before the due time. A due day closed
    after the loan was dated (an emergency closure: a due date is moved off a day closed beforehand) makes the
    next open day the due day: the reader could bring the book back no sooner (Evergreen's emergency closing
    moves such due dates)."""
    if at <= due_at:
        return 0
    due_day, day = date_in(due_at, zone), date_in(at, zone)
    if due_day in closed:
        due_day = next_open_day(due_day, closed)
        if day <= due_day:
            return 0
    days = (day - due_day).days
    if days <= 0:
        return 0 if due_day in closed else 1
    return days - _closed_after(due_day, days, closed)


def _closed_after(first: date, days: int, closed: ClosedDays) -> int:
    """How many of the `days` days after `first` are `closed`: a set intersection over the shorter side, the
    loan's late days (at most MAX_PERIOD_DAYS) or the calendar's closed days, whichever is fewer."""
    days = min(days, MAX_PERIOD_DAYS)
    if not closed:
        return 0
    if len(closed) <= days:
        last = first + timedelta(days=days)
        return sum(1 for day in closed if first < day <= last)
    return sum(1 for offset in range(1, days + 1) if first + timedelta(days=offset) in closed)


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
