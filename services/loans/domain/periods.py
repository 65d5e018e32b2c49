"""Periods of days a circulation rule gives (a loan, a renewal, grace, a hold's time on the shelf), counted in
the library's days: dates in its time zone, whose length a change of summer time makes 23 or 25 hours. Pure."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, tzinfo

from services.support.runtime.clock import end_of_day

MAX_PERIOD_DAYS = 36_500
"""A century: the longest period a rule may give. Much past it a due date leaves the calendar that Python's
datetime and Postgres's timestamptz share (to the year 9999), and the step that computes it would fail."""


def days_after(start: datetime, days: int) -> datetime:
    """`start` plus `days`, at most MAX_PERIOD_DAYS of them (a rule stored before the limit may give more)."""
    return start + timedelta(days=min(days, MAX_PERIOD_DAYS))


def end_of_day_after(start: datetime, days: int, zone: tzinfo) -> datetime:
    """The end of the library's day `days` days after the day of `start` (dates in `zone`), as UTC: a loan is
    due when its last day ends where the library is, not to the second of its issue; the patron who comes on
    the due day is in time, whatever the hour, and across a change of summer time too."""
    return end_of_day(start.astimezone(zone).date() + timedelta(days=min(days, MAX_PERIOD_DAYS)), zone)


def days_between(earlier: datetime, later: datetime, zone: tzinfo) -> int:
    """How many of the library's days have begun after the day of `earlier` by `later`: the difference of
    their dates in `zone`, not of 24-hour blocks (which, after the clocks go back, counted a day that had not
    begun for every hour before midnight, and after they go forward missed one)."""
    return (date_in(later, zone) - date_in(earlier, zone)).days


def date_in(instant: datetime, zone: tzinfo) -> date:
    """The date of `instant` in `zone`; its UTC date within hours of the calendar's ends (year 1, as a hard due
    date stored before they were checked gave), where the local one is out of its range."""
    try:
        return instant.astimezone(zone).date()
    except OverflowError:
        return instant.astimezone(UTC).date()
