"""The loan aggregate: due dates, renewals, overdue days after grace, returns, announcements."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from services.loans.domain.borrowing import CopyInfo
from services.loans.domain.loans import Loan, LoanIssued, LoanOverdue, LoanRenewed, LoanReturned, LoanStatus, visible
from services.loans.domain.rules import CirculationRule, RuleTerms
from services.support.runtime.errors import FailedPrecondition, InvalidArgument, NotFound

NOW = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)
DAY = timedelta(days=1)
COPY = CopyInfo(name="books/b/copies/c", book="books/b", barcode="B1", item_type="BOOK", status="ON_LOAN")


def active_loan(**terms: object) -> Loan:
    loan = Loan.begin(
        patron="users/p", book="books/b", barcode="", requested_copy="", hold="", request_id=None, issued_by="", now=NOW
    )
    rule = CirculationRule.create(RuleTerms("*", "*", **terms), now=NOW)  # type: ignore[arg-type]
    loan.activate(COPY, rule=rule, book_title="Dead Souls", now=NOW)
    return loan


def test_an_issued_loan_is_due_after_the_loan_period_and_announced() -> None:
    loan = active_loan(loan_period_days=10)
    assert loan.status == LoanStatus.ACTIVE
    assert loan.due_at == NOW + 10 * DAY
    assert [type(e) for e in loan.events] == [LoanIssued]


def test_the_hard_due_date_caps_an_issue() -> None:
    assert active_loan(loan_period_days=30, hard_due_at=NOW + 3 * DAY).due_at == NOW + 3 * DAY


def test_a_loan_needs_a_book_or_a_barcode() -> None:
    with pytest.raises(InvalidArgument):
        Loan.begin(patron="users/p", book="", barcode="", requested_copy="", hold="", request_id=None, issued_by="",
                   now=NOW)  # fmt: skip


def test_overdue_days_count_whole_days_after_grace() -> None:
    loan = active_loan(loan_period_days=1, grace_days=2, fine_per_day=Decimal("0.50"), fine_cap=Decimal("2.00"))
    due = loan.due_at
    assert due is not None
    assert not loan.is_overdue(due)
    assert loan.is_overdue(due + timedelta(hours=1)) and loan.overdue_days(due + timedelta(hours=1)) == 0
    assert loan.overdue_days(due + 3 * DAY) == 1
    assert loan.overdue_fine(due + 3 * DAY) == Decimal("0.50")
    assert loan.overdue_fine(due + 30 * DAY) == Decimal("2.00")


def test_renewal_extends_from_now_and_counts() -> None:
    loan = active_loan(loan_period_days=14, renewal_period_days=7, max_renewals=1)
    later = NOW + 10 * DAY
    loan.renew(now=later, others_waiting=False)
    assert loan.due_at == later + 7 * DAY and loan.renewal_count == 1
    assert isinstance(loan.events[-1], LoanRenewed) and loan.events[-1].previous_due_at == NOW + 14 * DAY
    with pytest.raises(FailedPrecondition) as refused:
        loan.renew(now=later, others_waiting=False)
    assert refused.value.reason == "RENEWAL_LIMIT_REACHED"


@pytest.mark.parametrize(
    ("moment", "others_waiting", "reason"),
    [
        (NOW + 20 * DAY, False, "LOAN_OVERDUE"),
        (NOW + 1 * DAY, True, "HOLDS_WAITING"),
    ],
)
def test_renewal_is_refused_when_overdue_or_others_wait(moment: datetime, others_waiting: bool, reason: str) -> None:
    loan = active_loan(loan_period_days=14)
    with pytest.raises(FailedPrecondition) as refused:
        loan.renew(now=moment, others_waiting=others_waiting)
    assert refused.value.reason == reason


def test_renewal_is_refused_at_the_hard_due_date() -> None:
    loan = active_loan(loan_period_days=14, hard_due_at=NOW + 14 * DAY)
    with pytest.raises(FailedPrecondition) as refused:
        loan.renew(now=NOW + DAY, others_waiting=False)
    assert refused.value.reason == "HARD_DUE_DATE_REACHED"


def test_returning_twice_is_refused() -> None:
    loan = active_loan()
    loan.return_copy(now=NOW + DAY, fine=None)
    assert isinstance(loan.events[-1], LoanReturned)
    with pytest.raises(FailedPrecondition) as twice:
        loan.return_copy(now=NOW + DAY, fine=None)
    assert twice.value.reason == "LOAN_ALREADY_RETURNED"


def test_overdue_is_announced_on_the_first_day_then_every_reminder_period() -> None:
    loan = active_loan(loan_period_days=1)
    assert not loan.note_overdue(NOW + DAY + timedelta(hours=1), every_days=7)  # not a whole day late yet
    assert loan.note_overdue(NOW + 2 * DAY, every_days=7)
    assert not loan.note_overdue(NOW + 5 * DAY, every_days=7)
    assert loan.note_overdue(NOW + 9 * DAY, every_days=7)
    assert [e.overdue_days for e in loan.events if isinstance(e, LoanOverdue)] == [1, 8]


def test_clients_never_see_a_sagas_pending_or_failed_record() -> None:
    pending = Loan.begin(patron="users/p", book="books/b", barcode="", requested_copy="", hold="", request_id=None,
                         issued_by="", now=NOW)  # fmt: skip
    with pytest.raises(NotFound):
        visible(pending)
    pending.fail("NO_COPY_AVAILABLE", now=NOW, copy_out=False)
    with pytest.raises(NotFound):
        visible(pending)
    loan = active_loan()
    assert visible(loan) is loan
    assert loan.name == f"loans/{loan.id}"
