"""A returned loan says how late it came back: the overdue days its return counted (as its fine did), and the
overdue fine it assessed; `overdue` stays "active and past due now"."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from services.loans.domain.borrowing import CopyInfo
from services.loans.domain.calendar import NO_CLOSED_DAYS
from services.loans.domain.fines import Fine, FineKind
from services.loans.domain.loans import Loan
from services.loans.domain.rules import CirculationRule, RuleTerms

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
DAY = timedelta(days=1)


def lent(grace_days: int = 0) -> Loan:
    rule = CirculationRule.create(
        RuleTerms("*", "*", loan_period_days=7, fine_per_day=Decimal("0.10"), grace_days=grace_days), now=NOW
    )
    loan = Loan.begin(patron="users/p", book="books/b", barcode="", requested_copy="", hold="",
                      request_id=None, issued_by="users/s", now=NOW)  # fmt: skip
    loan.activate(CopyInfo("books/b/copies/c", "books/b", "B1", "BOOK", "ON_LOAN"), rule=rule, book_title="Dead Souls",
                  now=NOW, zone=UTC)  # fmt: skip
    return loan


def test_a_late_return_keeps_its_overdue_days_and_names_its_fine() -> None:
    loan = lent(grace_days=1)
    back = loan.due_at + 6 * DAY  # type: ignore[operator]
    amount = loan.overdue_fine(back, UTC, closed=NO_CLOSED_DAYS)
    fine = Fine.assess(patron=loan.patron, kind=FineKind.OVERDUE, amount=amount,
                       currency="RUB", now=back, actor="system", loan=loan.name)  # fmt: skip
    loan.return_copy(now=back, fine=fine, zone=UTC, closed=NO_CLOSED_DAYS)
    a_month_on = back + 30 * DAY
    # 6 days late, 1 of grace: the 5 its fine counted (0.50)
    assert loan.overdue_days(a_month_on, UTC, closed=NO_CLOSED_DAYS) == 5
    assert fine.amount == Decimal("0.50") and loan.fine == fine.name
    assert not loan.is_overdue(a_month_on)


def test_an_on_time_return_has_no_overdue_days_nor_fine() -> None:
    loan = lent()
    loan.return_copy(now=loan.due_at - DAY, fine=None, zone=UTC, closed=NO_CLOSED_DAYS)  # type: ignore[operator]
    assert loan.overdue_days(NOW + 60 * DAY, UTC, closed=NO_CLOSED_DAYS) == 0 and loan.fine == ""


def test_a_loan_closed_as_stale_counts_no_overdue_days_where_a_return_would() -> None:
    """A stale record's return time is when it was found, not when the copy came back: no days counted."""
    stale, returned = lent(), lent()
    found = stale.due_at + 20 * DAY  # type: ignore[operator]
    stale.close_as_stale(found)
    returned.return_copy(now=found, fine=None, zone=UTC, closed=NO_CLOSED_DAYS)
    assert (
        stale.overdue_days(found, UTC, closed=NO_CLOSED_DAYS),
        returned.overdue_days(found, UTC, closed=NO_CLOSED_DAYS),
    ) == (0, 20)


def test_a_loan_returned_before_its_days_were_kept_counts_them_from_its_return_time() -> None:
    loan = lent()
    loan.return_copy(now=loan.due_at + 3 * DAY, fine=None, zone=UTC, closed=NO_CLOSED_DAYS)  # type: ignore[operator]
    legacy = replace(loan, returned_overdue_days=None)
    assert legacy.overdue_days(NOW + 60 * DAY, UTC, closed=NO_CLOSED_DAYS) == 3
