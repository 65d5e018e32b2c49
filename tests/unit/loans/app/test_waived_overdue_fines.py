"""Waiving an overdue fine while the book is still out forgives what was owed then, not the days after: the
reconciler and the return charge them, the patron's fine limit counts them, and the return's answer says how
late the book came back and which fine it charged."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from services.loans.api.convert import loan_to_proto
from services.loans.app.fining import WaiveFine, waive_fine
from services.loans.app.issuing import IssueLoan
from services.loans.app.returning import ReturnLoan
from services.loans.domain.calendar import NO_CLOSED_DAYS
from services.loans.domain.fines import Fine, FineStatus
from services.loans.domain.loans import Loan
from services.support.runtime.errors import FailedPrecondition

from ..desk import DESK, Desk
from ..fakes import FakeLoansDatabase

DAY = timedelta(days=1)


async def waived_at_six_days(db: FakeLoansDatabase, desk: Desk) -> tuple[Loan, Fine]:
    """The default rule (0.10 a day, cap 5.00): a loan 6 days late, its 0.60 fine waived."""
    book, _ = desk.catalog.add_book()
    loan = await desk.issue(IssueLoan("users/p1", book=book, actor=DESK))
    desk.clock.advance(loan.due_at - desk.clock.now() + 6 * DAY)  # type: ignore[operator]
    await desk.reconcile()
    (fine,) = db.fines.values()
    assert fine.amount == Decimal("0.60")
    waived = await waive_fine(WaiveFine(fine.id, "the holiday days", actor=DESK), uow=desk.uow(), clock=desk.clock)
    return loan, waived


@pytest.mark.parametrize("reconciled", [True, False], ids=["reconciler-then-return", "return-alone"])
async def test_the_days_after_a_waiver_are_charged_by_the_return(
    db: FakeLoansDatabase, desk: Desk, reconciled: bool
) -> None:
    loan, waived = await waived_at_six_days(db, desk)
    desk.clock.advance(10 * DAY)
    if reconciled:
        await desk.reconcile()
        assert (db.fines[waived.id].status, db.fines[waived.id].outstanding) == (
            FineStatus.OUTSTANDING,
            Decimal("1.00"),
        )
    returned = await desk.return_loan(ReturnLoan(loan_id=loan.id, actor=DESK))
    fine = db.fines[waived.id]
    assert (fine.amount, fine.waived, fine.outstanding) == (Decimal("1.60"), Decimal("0.60"), Decimal("1.00"))
    assert fine.status == FineStatus.OUTSTANDING and list(db.fines) == [waived.id]
    kinds = [(e.kind, e.amount, e.actor) for e in db.fine_entries[fine.id]]
    assert ("WAIVER", Decimal("0.60"), DESK.user) in kinds and kinds[-1][:2] == ("ACCRUED", Decimal("1.00"))
    answer = loan_to_proto(returned, now=desk.clock.now() + 5 * DAY, zone=desk.policy.time_zone, closed=NO_CLOSED_DAYS)
    assert (answer.overdue_days, answer.overdue, answer.fine) == (16, False, fine.name)


async def test_the_fine_limit_counts_what_is_owed_after_a_waiver(db: FakeLoansDatabase, desk: Desk) -> None:
    """1.60 charged, 0.60 forgiven: the patron owes 1.00, which a limit of 0.90 blocks and one of 1.20 does not."""
    loan, _ = await waived_at_six_days(db, desk)
    desk.clock.advance(10 * DAY)
    await desk.return_loan(ReturnLoan(loan_id=loan.id, actor=DESK))
    book, _ = desk.catalog.add_book()
    db.set_default_rule(max_outstanding_fines=Decimal("0.90"))
    with pytest.raises(FailedPrecondition) as refused:
        await desk.issue(IssueLoan("users/p1", book=book, actor=DESK))
    assert refused.value.reason == "FINES_LIMIT_EXCEEDED" and refused.value.metadata["outstanding"] == "1.00"
    db.set_default_rule(max_outstanding_fines=Decimal("1.20"))
    assert (await desk.issue(IssueLoan("users/p1", book=book, actor=DESK))).patron == "users/p1"
