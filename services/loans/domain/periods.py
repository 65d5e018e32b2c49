"""Periods of days a circulation rule gives (a loan, a renewal, grace, a hold's time on the shelf). Pure."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta, tzinfo

MAX_PERIOD_DAYS = 36_500
"""A century: the longest period a rule may give. Much past it a due date leaves the calendar that Python's
datetime and Postgres's timestamptz share (to the year 9999), and the step that computes it would fail."""


def days_after(start: datetime, days: int) -> datetime:
    """`start` plus `days`, at most MAX_PERIOD_DAYS of them (a rule stored before the limit may give more)."""
    return start + timedelta(days=min(days, MAX_PERIOD_DAYS))


END_OF_DAY = time(23, 59, 59)
"""When a day-based loan is due on its last day, in the library's time zone (Koha: 23:59)."""


def end_of_day_after(start: datetime, days: int, zone: tzinfo) -> datetime:
    """The end of the library's day `days` days after the day of `start` (dates in `zone`), as UTC: a loan is
    due when its last day ends where the library is, not to the second of its issue; the patron who comes on
    the due day is in time, whatever the hour, and across a change of summer time too."""
    day = start.astimezone(zone).date() + timedelta(days=min(days, MAX_PERIOD_DAYS))
    return datetime.combine(day, END_OF_DAY, tzinfo=zone).astimezone(UTC)
