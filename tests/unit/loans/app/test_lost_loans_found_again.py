"""A lost loan "found" a second time by its name (finding NF6): once its copy was found, and lent to another
reader since, the return was answered a retryable ABORTED pointing at that reader's loan "under another
barcode". It is a plain FAILED_PRECONDITION now, saying the loan's copy was found, and nothing changes."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest

from services.loans.app.issuing import IssueLoan
from services.loans.app.returning import ReturnLoan
from services.loans.domain.fines import FineKind, FineStatus
from services.loans.domain.loan_record import LoanStatus
from services.support.runtime.errors import FailedPrecondition

from ..desk import DESK, Desk
from ..fakes import FakeLoansDatabase
from .test_losing import declaration, fines_of, overdue_loan


async def test_a_lost_loan_found_and_its_copy_lent_again_is_refused_by_name_as_found_not_to_retry(
    db: FakeLoansDatabase, desk: Desk
) -> None:
    loan, copy = await overdue_loan(db, desk)
    await desk.declare_lost(declaration(loan))
    charge = fines_of(db, loan)[FineKind.LOST_ITEM]
    db.fines[charge.id].pay(Decimal("5.00"), now=desk.clock.now(), actor=DESK.user)  # type: ignore[attr-defined]
    found = await desk.return_loan(ReturnLoan(loan_id=loan.id, request_id=uuid.uuid4(), actor=DESK))
    assert found.refund_due == Decimal("5.00") and desk.catalog.status(copy) == "AVAILABLE"
    other = await desk.issue(IssueLoan("users/p2", barcode=desk.catalog.barcode(copy), actor=DESK))
    with pytest.raises(FailedPrecondition) as refused:
        await desk.return_loan(ReturnLoan(loan_id=loan.id, request_id=uuid.uuid4(), actor=DESK))
    assert refused.value.reason == "LOAN_ALREADY_FOUND" and refused.value.retry_after is None
    message = refused.value.message
    assert f"{loan.name} was declared lost" in message and "was found on" in message
    assert other.name not in message and "another barcode" not in message
    assert db.loans[other.id].status == LoanStatus.ACTIVE and desk.catalog.status(copy) == "ON_LOAN"
    kept = db.fines[charge.id]  # type: ignore[attr-defined]
    assert (kept.status, kept.refund_due) == (FineStatus.WAIVED, Decimal("5.00"))
    assert db.event_types().count("LostLoanFound") == 1


async def test_a_lost_loan_found_is_refused_by_name_as_found_while_its_copy_is_on_the_shelf(
    db: FakeLoansDatabase, desk: Desk
) -> None:
    loan, copy = await overdue_loan(db, desk)
    await desk.declare_lost(declaration(loan))
    await desk.return_loan(ReturnLoan(barcode=desk.catalog.barcode(copy), actor=DESK))
    with pytest.raises(FailedPrecondition) as refused:
        await desk.return_loan(ReturnLoan(loan_id=loan.id, actor=DESK))
    assert refused.value.reason == "LOAN_ALREADY_FOUND" and desk.catalog.status(copy) == "AVAILABLE"
    with pytest.raises(FailedPrecondition) as by_barcode:  # the barcode scanned again: the copy is on the shelf
        await desk.return_loan(ReturnLoan(barcode=desk.catalog.barcode(copy), actor=DESK))
    assert by_barcode.value.reason == "COPY_NOT_ON_LOAN"
