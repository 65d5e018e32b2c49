"""The library's calendar: a due date or a pickup deadline on a closed day moves to the end of the next open day."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from services.loans.domain.borrowing import CopyInfo
from services.loans.domain.calendar import (
    MAX_CLOSED_IN_A_ROW,
    ClosedDay,
    ClosedDayChanged,
    end_of_open_day_after,
    next_open_day,
    parse_closed_day_name,
)
from services.loans.domain.holds import Hold
from services.loans.domain.loans import Loan
from services.loans.domain.rules import CirculationRule, RuleTerms
from services.support.runtime.clock import end_of_day
from services.support.runtime.errors import InvalidArgument

NEW_YORK = ZoneInfo("America/New_York")
COPY = CopyInfo(name="books/b/copies/c", book="books/b", barcode="B1", item_type="BOOK", status="ON_LOAN")
ISSUED = datetime(2026, 12, 18, 15, 0, tzinfo=UTC)  # 10:00 in New York, a Friday


def test_a_due_date_on_a_closed_day_moves_to_the_end_of_the_next_open_day() -> None:
    due = end_of_open_day_after(ISSUED, 14, NEW_YORK, frozenset({date(2027, 1, 1)}))
    assert due == end_of_day(date(2027, 1, 2), NEW_YORK)


def test_a_due_date_on_an_open_day_stays() -> None:
    due = end_of_open_day_after(ISSUED, 14, NEW_YORK, frozenset({date(2026, 12, 31)}))
    assert due == end_of_day(date(2027, 1, 1), NEW_YORK)


def test_several_closed_days_in_a_row_are_all_skipped() -> None:
    closed = frozenset({date(2026, 12, 25), date(2026, 12, 26), date(2026, 12, 27)})
    assert end_of_open_day_after(ISSUED, 7, NEW_YORK, closed) == end_of_day(date(2026, 12, 28), NEW_YORK)


def test_the_next_open_day_after_a_change_of_summer_time_ends_at_its_local_midnight() -> None:
    # Summer time begins on Sunday 8 March 2026 in New York: the day is 23 hours long, and closed.
    start = datetime(2026, 3, 1, 17, 0, tzinfo=UTC)
    due = end_of_open_day_after(start, 7, NEW_YORK, frozenset({date(2026, 3, 8)}))
    assert due == datetime(2026, 3, 10, 3, 59, 59, tzinfo=UTC)  # 23:59:59 EDT on Monday 9 March
    assert due.astimezone(NEW_YORK).date() == date(2026, 3, 9)


def test_past_a_year_of_closed_days_in_a_row_the_date_is_kept() -> None:
    first = date(2027, 1, 1)
    closed = frozenset(first + timedelta(days=n) for n in range(MAX_CLOSED_IN_A_ROW + 1))
    assert next_open_day(first, closed) == first
    within = frozenset(first + timedelta(days=n) for n in range(MAX_CLOSED_IN_A_ROW))
    assert next_open_day(first, within) == first + timedelta(days=MAX_CLOSED_IN_A_ROW)


def _loan(closed: frozenset[date], **terms: object) -> Loan:
    loan = Loan.begin(patron="users/p", book="books/b", barcode="", requested_copy="", hold="", request_id=None,
                      issued_by="", now=ISSUED)  # fmt: skip
    rule = CirculationRule.create(RuleTerms("*", "*", **{"loan_period_days": 14, **terms}), now=ISSUED)  # type: ignore[arg-type]
    loan.activate(COPY, rule=rule, book_title="Calendar", now=ISSUED, zone=NEW_YORK, closed=closed)
    return loan


def test_a_loan_due_on_new_year_is_due_on_the_second_of_january() -> None:
    assert _loan(frozenset({date(2027, 1, 1)})).due_at == end_of_day(date(2027, 1, 2), NEW_YORK)


def test_a_renewal_due_on_a_closed_day_moves_too() -> None:
    loan = _loan(frozenset(), renewal_period_days=14)
    loan.renew(now=ISSUED, others_waiting=False, zone=NEW_YORK, closed=frozenset({date(2027, 1, 15)}))
    assert loan.due_at == end_of_day(date(2027, 1, 16), NEW_YORK)


def test_a_hard_due_date_on_a_closed_day_stays_as_the_admin_set_it() -> None:
    hard = datetime(2027, 1, 1, 12, tzinfo=NEW_YORK)
    loan = _loan(frozenset({date(2027, 1, 1)}), hard_due_at=hard, loan_period_days=30)
    assert loan.due_at == end_of_day(date(2027, 1, 1), NEW_YORK)


def test_a_ready_holds_pickup_deadline_on_a_closed_day_moves_to_the_next_open_day() -> None:
    hold = Hold.place(patron="users/p", book="books/b", pickup_branch="", pickup_days=7, now=ISSUED)
    hold.make_ready(COPY.name, now=ISSUED, zone=NEW_YORK, closed=frozenset({date(2026, 12, 25)}))
    assert hold.expire_at == end_of_day(date(2026, 12, 26), NEW_YORK)


def test_closing_a_day_records_the_change_and_names_it_by_its_date() -> None:
    now = datetime(2026, 12, 1, tzinfo=UTC)
    closed = ClosedDay.create(date(2027, 1, 1), "  New Year ", now=now, zone=NEW_YORK)
    assert (closed.name, closed.reason) == ("closedDays/2027-01-01", "New Year")
    closed.delete(now=now)
    assert [(type(e), e.deleted) for e in closed.events] == [(ClosedDayChanged, False), (ClosedDayChanged, True)]
    assert parse_closed_day_name("closedDays/2027-01-01") == date(2027, 1, 1)


@pytest.mark.parametrize("day", [date(1999, 12, 31), date(2037, 1, 1)])
def test_a_day_before_2000_or_more_than_ten_years_ahead_is_refused(day: date) -> None:
    with pytest.raises(InvalidArgument):
        ClosedDay.create(day, "", now=datetime(2026, 12, 1, tzinfo=UTC), zone=NEW_YORK)


@pytest.mark.parametrize("name", ["closedDays/2027-13-01", "closedDays/27-01-01", "holidays/2027-01-01", "closedDays/"])
def test_a_malformed_closed_day_name_is_refused(name: str) -> None:
    with pytest.raises(InvalidArgument):
        parse_closed_day_name(name)
