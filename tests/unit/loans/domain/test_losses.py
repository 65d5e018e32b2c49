"""A loan declared lost: the note, the end LOST, and the copy found (its fine withdrawn: the rest waived, what was
paid owed back)."""

from __future__ import annotations

from datetime import UTC
from decimal import Decimal

import pytest

from services.loans.domain.calendar import NO_CLOSED_DAYS
from services.loans.domain.fines import Fine, FineKind, FineStatus
from services.loans.domain.loan_record import LoanStatus
from services.loans.domain.loans import visible
from services.loans.domain.losses import (
    FOUND_REASON,
    LoanDeclaredLost,
    LostLoanFound,
    begin_declaring_lost,
    declare_lost,
    found,
)
from services.support.runtime.errors import FailedPrecondition, InvalidArgument

from .test_loans import DAY, NOW, active_loan


def lost_item_fine(amount: str = "25.00") -> Fine:
    return Fine.assess(
        patron="users/p", kind=FineKind.LOST_ITEM, amount=Decimal(amount), currency="RUB", now=NOW, actor="users/s"
    )


def test_the_note_keeps_the_fee_and_reason_and_a_return_begun_after_forgets_them() -> None:
    loan = active_loan(loan_period_days=7)
    begin_declaring_lost(loan, NOW, fee=Decimal("25.00"), reason=" gone ")
    assert loan.being_declared_lost and (loan.lost_fee, loan.lost_reason) == (Decimal("25.00"), "gone")
    loan.begin_return(NOW + DAY)  # the copy turned up at the desk after all
    assert not loan.being_declared_lost and loan.lost_fee is None and loan.return_started_at == NOW + DAY
    with pytest.raises(FailedPrecondition) as refused:
        begin_declaring_lost(loan, NOW, fee=Decimal("1"), reason="gone")
    assert refused.value.reason == "LOAN_BEING_RETURNED"


def test_the_note_needs_a_reason_and_a_fee_not_below_zero() -> None:
    loan = active_loan(loan_period_days=7)
    with pytest.raises(InvalidArgument):
        begin_declaring_lost(loan, NOW, fee=Decimal("1"), reason="  ")
    with pytest.raises(InvalidArgument):
        begin_declaring_lost(loan, NOW, fee=Decimal("-1"), reason="gone")
    assert loan.return_started_at is None


def test_a_declared_loan_ends_lost_visible_and_no_longer_overdue() -> None:
    loan = active_loan(loan_period_days=7, fine_per_day=Decimal("0.50"))
    now = NOW + 20 * DAY
    assert loan.is_overdue(now)
    with pytest.raises(FailedPrecondition):
        declare_lost(loan, now=now, lost_item_fine=None, overdue_fine=None, actor="users/s")  # no note
    begin_declaring_lost(loan, now, fee=Decimal("25.00"), reason="gone")
    charge = lost_item_fine()
    declare_lost(loan, now=now, lost_item_fine=charge, overdue_fine=None, actor="users/s")
    assert (loan.status, loan.returned_at, loan.lost_fine) == (LoanStatus.LOST, now, charge.name)
    assert (
        visible(loan) is loan
        and not loan.is_overdue(now + DAY)
        and loan.overdue_fine(now + DAY, UTC, closed=NO_CLOSED_DAYS) == 0
    )
    event = loan.events[-1]
    assert isinstance(event, LoanDeclaredLost) and (event.reason, event.declared_by) == ("gone", "users/s")
    with pytest.raises(FailedPrecondition) as again:
        begin_declaring_lost(loan, now, fee=Decimal("1"), reason="gone")
    assert again.value.reason == "LOAN_NOT_ACTIVE"


def test_found_withdraws_the_charge_waiving_the_rest_and_owing_back_what_was_paid() -> None:
    loan = active_loan(loan_period_days=7)
    with pytest.raises(FailedPrecondition):
        found(loan, now=NOW, lost_item_fine=None, actor="users/s")  # an active loan is not lost
    begin_declaring_lost(loan, NOW, fee=Decimal("25.00"), reason="gone")
    unpaid, partly_paid, paid = lost_item_fine(), lost_item_fine(), lost_item_fine()
    declare_lost(loan, now=NOW, lost_item_fine=unpaid, overdue_fine=None, actor="users/s")
    found(loan, now=NOW + DAY, lost_item_fine=unpaid, actor="users/s")
    assert (unpaid.status, unpaid.waive_reason, unpaid.refund_due) == (FineStatus.WAIVED, FOUND_REASON, 0)
    assert loan.refund_due == 0
    partly_paid.pay(Decimal("5.00"), now=NOW, actor="users/s")
    found(loan, now=NOW + DAY, lost_item_fine=partly_paid, actor="users/s")
    # Paying 5.00 in good faith no longer leaves 20.00 owed for a book the library has back: it is owed 5.00.
    assert (partly_paid.status, partly_paid.outstanding) == (FineStatus.WAIVED, Decimal("0.00"))
    assert partly_paid.waived == Decimal("20.00") and partly_paid.refund_due == loan.refund_due == Decimal("5.00")
    assert [(e.kind, e.amount, e.reason) for e in partly_paid.new_entries[-2:]] == [
        ("WAIVER", Decimal("20.00"), FOUND_REASON),
        ("REFUND", Decimal("5.00"), FOUND_REASON),
    ]
    paid.pay(Decimal("25.00"), now=NOW, actor="users/s")
    found(loan, now=NOW + DAY, lost_item_fine=paid, actor="users/s")
    assert (paid.status, paid.waived, paid.refund_due) == (FineStatus.PAID, 0, Decimal("25.00"))
    assert paid.withdraw(FOUND_REASON, now=NOW + DAY, actor="users/s") == 0  # owed back once, not twice
    assert loan.status == LoanStatus.LOST and isinstance(loan.events[-1], LostLoanFound)
