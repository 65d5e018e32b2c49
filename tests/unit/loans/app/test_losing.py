"""Declaring a loan's copy lost with fakes: the loan ends LOST with its overdue fine frozen and a LOST_ITEM
fine, the copy goes LOST, the patron may borrow again; a declaration that stopped half-way is finished or
undone by the reconciler; found later, the copy is scanned back and its fine withdrawn (the rest waived, what
was paid owed back)."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import pytest

from services.loans.api.convert import fine_to_proto, loan_to_proto
from services.loans.app.holding import PlaceHold
from services.loans.app.issuing import IssueLoan
from services.loans.app.losing import DeclareLoanLost
from services.loans.app.returning import ReturnLoan
from services.loans.domain.calendar import NO_CLOSED_DAYS
from services.loans.domain.fines import FineKind, FineStatus
from services.loans.domain.hold_record import HoldStatus
from services.loans.domain.loan_record import LoanStatus
from services.loans.domain.loans import Loan
from services.loans.domain.losses import LoanDeclaredLost, LostLoanFound
from services.support.runtime.errors import DependencyUnavailable, FailedPrecondition, InvalidArgument, PermissionDenied

from ..desk import DESK, Crash, Desk, crash_after_check_in, reader
from ..fakes import FakeLoansDatabase

DAY = timedelta(days=1)


async def overdue_loan(db: FakeLoansDatabase, desk: Desk, *, days_late: int = 10) -> tuple[Loan, str]:
    db.set_default_rule(loan_period_days=7, fine_per_day=Decimal("0.50"), fine_cap=Decimal("20.00"))
    book, (copy,) = desk.catalog.add_book()
    loan = await desk.issue(IssueLoan("users/p1", book=book, actor=DESK))
    desk.clock.advance((7 + days_late) * DAY)
    return loan, copy


def declaration(loan: Loan, amount: str = "25.00", **more: object) -> DeclareLoanLost:
    return DeclareLoanLost(loan.id, amount=amount, reason="not returned after three notices", actor=DESK, **more)  # type: ignore[arg-type]


def fines_of(db: FakeLoansDatabase, loan: Loan) -> dict[FineKind, object]:
    return {fine.kind: fine for fine in db.fines.values() if fine.loan == loan.name}


async def test_a_lost_loan_ends_lost_charged_the_replacement_with_its_overdue_fine_frozen(
    db: FakeLoansDatabase, desk: Desk
) -> None:
    loan, copy = await overdue_loan(db, desk)
    lost = await desk.declare_lost(declaration(loan))
    assert lost.status == LoanStatus.LOST and lost.returned_at == desk.clock.now()
    assert desk.catalog.status(copy) == "LOST"
    fines = {fine.kind: fine for fine in db.fines.values()}
    assert fines[FineKind.OVERDUE].amount == Decimal("5.00")  # 10 days at 0.50, brought up to the declaration
    charge = fines[FineKind.LOST_ITEM]
    assert (charge.amount, charge.loan, charge.status) == (Decimal("25.00"), loan.name, FineStatus.OUTSTANDING)
    assert "not returned after three notices" in charge.description and db.loans[loan.id].lost_fine == charge.name
    (event,) = [e for e in db.events if isinstance(e, LoanDeclaredLost)]
    assert event.lost_item_fine is not None and event.lost_item_fine.id == charge.id
    assert event.declared_by == DESK.user and event.reason == "not returned after three notices"
    desk.clock.advance(10 * DAY)
    await desk.reconcile()
    assert fines[FineKind.OVERDUE].amount == db.fines[fines[FineKind.OVERDUE].id].amount == Decimal("5.00")


async def test_a_patron_blocked_by_the_overdue_loan_may_borrow_again_once_it_is_declared_lost(
    db: FakeLoansDatabase, desk: Desk
) -> None:
    loan, _ = await overdue_loan(db, desk)
    db.set_default_rule(max_outstanding_fines=None)  # what it owes for the copy is the fines limit's business
    other, _ = desk.catalog.add_book("Oblomov")
    with pytest.raises(FailedPrecondition) as refused:
        await desk.issue(IssueLoan("users/p1", book=other, actor=DESK))
    assert refused.value.reason == "TOO_MANY_OVERDUE_LOANS"
    await desk.declare_lost(declaration(loan))
    assert (await desk.issue(IssueLoan("users/p1", book=other, actor=DESK))).status == LoanStatus.ACTIVE


async def test_a_retry_is_answered_a_second_declaration_refused_and_readers_may_not(
    db: FakeLoansDatabase, desk: Desk
) -> None:
    loan, _ = await overdue_loan(db, desk)
    request = uuid.uuid4()
    with pytest.raises(PermissionDenied):
        await desk.declare_lost(DeclareLoanLost(loan.id, amount="1", reason="x", actor=reader("users/p1")))
    first = await desk.declare_lost(declaration(loan, request_id=request))
    again = await desk.declare_lost(declaration(loan, request_id=request))
    assert again.id == first.id and again.status == LoanStatus.LOST
    with pytest.raises(FailedPrecondition) as refused:
        await desk.declare_lost(declaration(loan))
    assert refused.value.reason == "LOAN_NOT_ACTIVE"
    assert [f.kind for f in db.fines.values()].count(FineKind.LOST_ITEM) == 1
    assert db.event_types().count("LoanDeclaredLost") == 1


async def test_the_amount_and_reason_are_checked_and_zero_charges_nothing(db: FakeLoansDatabase, desk: Desk) -> None:
    loan, copy = await overdue_loan(db, desk, days_late=0)
    for amount, reason in (("", "gone"), ("-1", "gone"), ("2.005", "gone"), ("3", " ")):
        with pytest.raises(InvalidArgument):
            await desk.declare_lost(DeclareLoanLost(loan.id, amount=amount, reason=reason, actor=DESK))
    assert db.loans[loan.id].status == LoanStatus.ACTIVE and desk.catalog.status(copy) == "ON_LOAN"
    lost = await desk.declare_lost(declaration(loan, "0"))
    assert lost.status == LoanStatus.LOST and lost.lost_fine == "" and db.fines == {}


async def test_a_declaration_stopped_after_the_catalog_step_is_finished_by_the_reconciler(
    db: FakeLoansDatabase, desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    loan, copy = await overdue_loan(db, desk)
    declared_at = desk.clock.now()
    crash_after_check_in(desk.catalog, monkeypatch)
    with pytest.raises(Crash):
        await desk.declare_lost(declaration(loan))
    assert db.loans[loan.id].status == LoanStatus.ACTIVE and desk.catalog.status(copy) == "LOST"
    desk.clock.advance(3 * DAY)  # the reconciler's pass comes late: nothing is charged for the wait
    report = await desk.reconcile()
    lost = db.loans[loan.id]
    assert report.returns_settled == 1 and lost.status == LoanStatus.LOST and lost.returned_at == declared_at
    fines = fines_of(db, loan)
    assert fines[FineKind.OVERDUE].amount == Decimal("5.00")  # type: ignore[attr-defined]
    assert fines[FineKind.LOST_ITEM].amount == Decimal("25.00")  # type: ignore[attr-defined]


async def test_a_declaration_that_never_reached_the_catalog_is_undone_by_the_reconciler(
    db: FakeLoansDatabase, desk: Desk
) -> None:
    loan, copy = await overdue_loan(db, desk)
    desk.catalog.down = True
    with pytest.raises(DependencyUnavailable):
        await desk.declare_lost(declaration(loan))
    desk.catalog.down = False
    desk.clock.advance(desk.reconcile_policy.saga_timeout + timedelta(seconds=1))
    assert (await desk.reconcile()).returns_settled == 1
    kept = db.loans[loan.id]
    assert (kept.status, kept.return_started_at, kept.lost_fee) == (LoanStatus.ACTIVE, None, None)
    assert desk.catalog.status(copy) == "ON_LOAN" and FineKind.LOST_ITEM not in fines_of(db, loan)


async def test_a_lost_copy_found_goes_back_on_the_shelf_and_its_unpaid_fine_is_waived(
    db: FakeLoansDatabase, desk: Desk
) -> None:
    loan, copy = await overdue_loan(db, desk)
    await desk.declare_lost(declaration(loan))
    desk.clock.advance(20 * DAY)
    back = await desk.return_loan(ReturnLoan(barcode=desk.catalog.barcode(copy), actor=DESK))
    assert back.id == loan.id and back.status == LoanStatus.LOST and desk.catalog.status(copy) == "AVAILABLE"
    fines = fines_of(db, loan)
    charge = fines[FineKind.LOST_ITEM]
    assert (charge.status, charge.waive_reason) == (FineStatus.WAIVED, "found")  # type: ignore[attr-defined]
    assert fines[FineKind.OVERDUE].status == FineStatus.OUTSTANDING  # type: ignore[attr-defined]
    assert db.event_types().count("LostLoanFound") == 1
    (event,) = [e for e in db.events if isinstance(e, LostLoanFound)]
    assert event.found_by == DESK.user
    with pytest.raises(FailedPrecondition) as again:
        await desk.return_loan(ReturnLoan(barcode=desk.catalog.barcode(copy), actor=DESK))
    assert again.value.reason == "COPY_NOT_ON_LOAN"


async def test_a_lost_copy_found_by_the_loan_s_name_goes_to_the_hold_queue_and_what_was_paid_is_owed_back(
    db: FakeLoansDatabase, desk: Desk
) -> None:
    loan, copy = await overdue_loan(db, desk)
    await desk.declare_lost(declaration(loan))
    charge = fines_of(db, loan)[FineKind.LOST_ITEM]
    stored = db.fines[charge.id]  # type: ignore[attr-defined]
    stored.pay(Decimal("10.00"), now=desk.clock.now(), actor=DESK.user)
    hold = await desk.place_hold(PlaceHold("users/p2", loan.book, actor=DESK))
    back = await desk.return_loan(ReturnLoan(loan_id=loan.id, actor=DESK))
    assert back.status == LoanStatus.LOST and desk.catalog.status(copy) == "ON_HOLD_SHELF"
    assert db.holds[hold.id].status == HoldStatus.READY
    assert (back.trapped_hold, back.transit_branch) == (hold.name, "")  # the desk says: on the hold shelf
    kept = db.fines[stored.id]
    assert (kept.status, kept.outstanding, kept.paid, kept.refund_due) == (
        FineStatus.WAIVED,
        Decimal("0.00"),
        Decimal("10.00"),
        Decimal("10.00"),
    )
    assert back.refund_due == Decimal("10.00")  # the desk is told to hand it back
    answer = loan_to_proto(back, now=desk.clock.now(), zone=desk.policy.time_zone, closed=NO_CLOSED_DAYS)
    assert answer.refund_amount == "10.00" and fine_to_proto(kept).refund_amount == "10.00"
    assert [entry.kind for entry in db.fine_entries[stored.id]][-2:] == ["WAIVER", "REFUND"]
    (event,) = [e for e in db.events if isinstance(e, LostLoanFound)]
    assert event.lost_item_fine is not None and event.lost_item_fine.refund_due == Decimal("10.00")


async def test_a_copy_the_catalog_has_back_already_is_not_declared_lost(db: FakeLoansDatabase, desk: Desk) -> None:
    loan, copy = await overdue_loan(db, desk)
    desk.catalog.copies[copy] = replace(desk.catalog.copies[copy], status="AVAILABLE", current_loan="")
    with pytest.raises(FailedPrecondition) as refused:
        await desk.declare_lost(declaration(loan))
    assert refused.value.reason == "COPY_NOT_ON_LOAN" and desk.catalog.status(copy) == "AVAILABLE"
    kept = db.loans[loan.id]
    assert (kept.status, kept.return_started_at, kept.lost_fee) == (LoanStatus.ACTIVE, None, None)
    assert FineKind.LOST_ITEM not in fines_of(db, loan)


async def test_a_lost_copy_found_at_another_branch_than_its_hold_s_pickup_branch_is_sent_there(
    db: FakeLoansDatabase, desk: Desk
) -> None:
    loan, copy = await overdue_loan(db, desk)
    await desk.declare_lost(declaration(loan))
    hold = await desk.place_hold(PlaceHold("users/p2", loan.book, pickup_branch="EAST", actor=DESK))
    back = await desk.return_loan(ReturnLoan(barcode=desk.catalog.barcode(copy), branch="MAIN", actor=DESK))
    assert back.status == LoanStatus.LOST and desk.catalog.status(copy) == "IN_TRANSIT"
    assert (db.holds[hold.id].status, db.holds[hold.id].copy) == (HoldStatus.IN_TRANSIT, copy)
    assert (back.trapped_hold, back.transit_branch) == (hold.name, "EAST")  # the desk says: send it to EAST
