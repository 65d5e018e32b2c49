"""Periods of days a circulation rule gives (a loan, a renewal, grace, a hold's time on the shelf). Pure."""

from __future__ import annotations

from datetime import datetime, timedelta

MAX_PERIOD_DAYS = 36_500
"""A century: the longest period a rule may give. Much past it a due date leaves the calendar that Python's
datetime and Postgres's timestamptz share (to the year 9999), and the step that computes it would fail."""


def days_after(start: datetime, days: int) -> datetime:
    """`start` plus `days`, at most MAX_PERIOD_DAYS of them (a rule stored before the limit may give more)."""
    return start + timedelta(days=min(days, MAX_PERIOD_DAYS))
