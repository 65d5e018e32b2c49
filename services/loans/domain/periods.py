"""Periods of days a circulation rule gives (a loan, a renewal, grace, a hold's time on the shelf), counted in
the library's days: dates in its time zone, whose length a change of summer time makes 23 or 25 hours. Pure."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, tzinfo

MAX_PERIOD_DAYS = 36_500
"""A century: the longest period a rule may give. Much past it a due date leaves the calendar that Python's
datetime and Postgres's timestamptz share (to the year 9999), and the step that computes it would fail."""
SECOND = timedelta(seconds=1)


def days_after(start: datetime, days: int) -> datetime:
    """`start` plus `days`, at most MAX_PERIOD_DAYS of them (a rule stored before the limit may give more)."""
    return start + timedelta(days=min(days, MAX_PERIOD_DAYS))


END_OF_DAY = time(23, 59, 59, fold=1)
"""When a day-based loan is due on its last day, in the library's time zone (Koha: 23:59). fold=1: where the
clocks go back at midnight (Santiago, Cairo) 23:59:59 happens twice, and the day ends at the second one."""


def end_of_day(day: date, zone: tzinfo) -> datetime:
    """The last second of the library's day `day` (a date in `zone`), as UTC. Where the clocks jump over
    23:59:59 (summer time beginning at 23:00, Nuuk; a day skipped whole, Samoa in 2011) the local time does not
    exist, and the day ends the second before the jump."""
    last = datetime.combine(day, END_OF_DAY, tzinfo=zone)
    if last.astimezone(UTC).astimezone(zone).replace(tzinfo=None) == last.replace(tzinfo=None):
        return last.astimezone(UTC).replace(fold=0)  # UTC has no second 23:59:59
    # In the gap fold=1 reads the time with the offset after the jump (an instant before it), fold=0 with the
    # offset before (one after it): the jump lies between, and the day ends the second before it.
    before, after = last.astimezone(UTC), last.replace(fold=0).astimezone(UTC)
    while after - before > SECOND:
        middle = before + (after - before) // SECOND // 2 * SECOND
        if middle.astimezone(zone).date() > day:
            after = middle
        else:
            before = middle
    return before


def end_of_day_after(start: datetime, days: int, zone: tzinfo) -> datetime:
    """The end of the library's day `days` days after the day of `start` (dates in `zone`), as UTC: a loan is
    due when its last day ends where the library is, not to the second of its issue; the patron who comes on
    the due day is in time, whatever the hour, and across a change of summer time too."""
    return end_of_day(start.astimezone(zone).date() + timedelta(days=min(days, MAX_PERIOD_DAYS)), zone)


def days_between(earlier: datetime, later: datetime, zone: tzinfo) -> int:
    """How many of the library's days have begun after the day of `earlier` by `later`: the difference of
    their dates in `zone`, not of 24-hour blocks (which, after the clocks go back, counted a day that had not
    begun for every hour before midnight, and after they go forward missed one)."""
    return (_date_in(later, zone) - _date_in(earlier, zone)).days


def _date_in(instant: datetime, zone: tzinfo) -> date:
    """The date of `instant` in `zone`; its UTC date within hours of the calendar's ends (year 1, as a hard due
    date stored before they were checked gave), where the local one is out of its range."""
    try:
        return instant.astimezone(zone).date()
    except OverflowError:
        return instant.astimezone(UTC).date()
