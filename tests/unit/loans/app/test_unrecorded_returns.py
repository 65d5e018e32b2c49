"""A copy the catalog has out on a loan the loans database has no record of (lost with a restored backup): the
reconciler reports it, and its return by barcode at the desk checks it in (finding 4, D6)."""

from __future__ import annotations

import asyncio
from copy import deepcopy
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import pytest

from services.loans.app.holding import PlaceHold
from services.loans.app.issuing import IssueLoan
from services.loans.app.returning import ReturnLoan
from services.loans.app.unrecorded import LOAN_UNSETTLED
from services.loans.domain.borrowing import CopyInfo
from services.loans.domain.hold_record import HoldStatus
from services.loans.domain.loan_events import LoanReturned
from services.loans.domain.loan_record import LoanStatus
from services.loans.domain.loans import Loan
from services.loans.domain.unrecorded import UNRECORDED, UnrecordedLoanReturned
from services.support.runtime.errors import Conflict, FailedPrecondition

from ..desk import DESK, Crash, Desk, crash
from ..fakes import FakeLoansDatabase


async def lent_then_lost(db: FakeLoansDatabase, desk: Desk) -> tuple[Loan, str]:
    """A loan made after the backup the loans database is then restored from: the catalog still has its copy
    out on it (changed when it went out), loans has no record of it."""
    book, (copy,) = desk.catalog.add_book()
    loan = await desk.issue(IssueLoan("users/p1", book=book, actor=DESK))
    desk.catalog.copies[copy] = replace(desk.catalog.copies[copy], changed_at=desk.clock.now())
    del db.loans[loan.id]
    return loan, copy


def past_any_issue_in_flight(desk: Desk) -> None:
    desk.clock.advance(desk.reconcile_policy.saga_timeout + timedelta(seconds=1))


async def test_a_copy_out_on_a_loan_lost_with_a_restore_is_reported_then_checked_in_by_its_return(
    db: FakeLoansDatabase, desk: Desk
) -> None:
    """It was stuck ON_LOAN: the reconciler only reported it, and the return said "is not on loan (on loan)"."""
    loan, copy = await lent_then_lost(db, desk)
    past_any_issue_in_flight(desk)
    report = await desk.reconcile()
    assert any(loan.name in line and "not recorded here" in line for line in report.discrepancies)
    assert desk.catalog.status(copy) == "ON_LOAN"  # most likely with the patron: left for the desk
    returned = await desk.return_loan(ReturnLoan(barcode=desk.catalog.barcode(copy), actor=DESK))
    assert (returned.name, returned.status, returned.patron) == (loan.name, LoanStatus.RETURNED, "")
    assert (returned.copy, returned.barcode, returned.book) == (copy, loan.barcode, loan.book)
    assert returned.returned_at == desk.clock.now()
    assert desk.catalog.status(copy) == "AVAILABLE" and loan.id not in db.loans  # nothing stored of it
    (audited,) = [event for event in db.events if isinstance(event, UnrecordedLoanReturned)]
    assert (audited.loan.name, audited.returned_by, audited.reason) == (loan.name, DESK.user, UNRECORDED)
    assert (await desk.reconcile()).discrepancies == []
    with pytest.raises(FailedPrecondition, match="is not on loan: it is available") as again:
        await desk.return_loan(ReturnLoan(barcode=desk.catalog.barcode(copy), actor=DESK))
    assert again.value.reason == "COPY_NOT_ON_LOAN"


async def test_a_copy_back_from_a_loan_lost_with_a_restore_goes_to_the_hold_shelf_for_the_queue(
    db: FakeLoansDatabase, desk: Desk
) -> None:
    loan, copy = await lent_then_lost(db, desk)
    hold = await desk.place_hold(PlaceHold("users/p2", loan.book, actor=DESK))
    assert hold.status == HoldStatus.WAITING
    past_any_issue_in_flight(desk)
    back = await desk.return_loan(ReturnLoan(barcode=desk.catalog.barcode(copy), actor=DESK))
    assert desk.catalog.copies[copy].current_hold == hold.name
    assert (db.holds[hold.id].status, db.holds[hold.id].copy) == (HoldStatus.READY, copy)
    assert (back.trapped_hold, back.transit_branch) == (hold.name, "")


@pytest.mark.parametrize("age", ["just lent", "not said"])
async def test_a_copy_on_an_unrecorded_loan_lent_too_recently_to_tell_is_left_out(
    db: FakeLoansDatabase, desk: Desk, age: str
) -> None:
    """An issue still under way could yet record it: the desk is told to retry in a minute (not kept for the
    request_id, as a refusal would be)."""
    _, copy = await lent_then_lost(db, desk)
    if age == "not said":
        desk.catalog.copies[copy] = replace(desk.catalog.copies[copy], changed_at=None)
        past_any_issue_in_flight(desk)
    with pytest.raises(Conflict, match="an issue may still be under way") as refused:
        await desk.return_loan(ReturnLoan(barcode=desk.catalog.barcode(copy), actor=DESK))
    assert refused.value.reason == LOAN_UNSETTLED and desk.catalog.status(copy) == "ON_LOAN"


async def test_a_copy_out_on_a_loan_recorded_here_in_any_state_is_not_checked_in_by_a_return(
    db: FakeLoansDatabase, desk: Desk
) -> None:
    """A PENDING issue (its process died after the check-out) is the reconciler's to settle, not the desk's."""
    book, (copy,) = desk.catalog.add_book()
    with pytest.raises(Crash):
        await desk.issue(IssueLoan("users/p1", book=book, actor=DESK), after_checkout=crash)
    desk.catalog.copies[copy] = replace(desk.catalog.copies[copy], changed_at=desk.clock.now())
    with pytest.raises(Conflict, match="whose issue is still under way") as refused:
        await desk.return_loan(ReturnLoan(barcode=desk.catalog.barcode(copy), actor=DESK))
    assert refused.value.reason == LOAN_UNSETTLED and desk.catalog.status(copy) == "ON_LOAN"
    assert [loan.status for loan in db.loans.values()] == [LoanStatus.PENDING]
    assert not any(isinstance(event, UnrecordedLoanReturned) for event in db.events)


async def test_returns_at_once_of_a_copy_on_an_unrecorded_loan_take_it_back_once(
    db: FakeLoansDatabase, desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each desk found the copy out on the loan and was answered RETURNED, and the audit trail had one
    UnrecordedLoanReturned per desk for one check-in (finding 3, F6); a waiting hold is made READY once."""
    loan, copy = await lent_then_lost(db, desk)
    hold = await desk.place_hold(PlaceHold("users/p2", loan.book, actor=DESK))
    past_any_issue_in_flight(desk)
    all_found_it_out, check_in = asyncio.Barrier(3), desk.catalog.check_in

    async def when_all_found_it_out(**step: str) -> CopyInfo:
        await all_found_it_out.wait()
        return await check_in(**step)

    monkeypatch.setattr(desk.catalog, "check_in", when_all_found_it_out)
    barcode = desk.catalog.barcode(copy)
    answers = await asyncio.gather(*(desk.return_loan(ReturnLoan(barcode=barcode, actor=DESK)) for _ in range(3)))
    assert {(answer.name, answer.status) for answer in answers} == {(loan.name, LoanStatus.RETURNED)}
    assert [event.loan.name for event in db.events if isinstance(event, UnrecordedLoanReturned)] == [loan.name]
    assert (db.holds[hold.id].status, db.holds[hold.id].copy) == (HoldStatus.READY, copy)
    assert db.event_types().count("HoldReady") == 1


async def restored_over_a_new_loan(db: FakeLoansDatabase, desk: Desk) -> tuple[Loan, Loan, str]:
    """A loan of the backup (ACTIVE in it), returned after the backup and its copy lent again on a new loan;
    then the backup is restored: the old loan is ACTIVE again, the new one unknown here, the catalog has the
    copy out on the new one."""
    db.set_default_rule(loan_period_days=7, fine_per_day=Decimal("0.30"))
    book, (copy,) = desk.catalog.add_book()
    old = await desk.issue(IssueLoan("users/p1", book=book, actor=DESK))
    backup = deepcopy(db.loans[old.id])
    await desk.return_loan(ReturnLoan(loan_id=old.id, actor=DESK))
    new = await desk.issue(IssueLoan("users/p2", book=old.book, actor=DESK))
    desk.catalog.copies[copy] = replace(desk.catalog.copies[copy], changed_at=desk.clock.now())
    db.loans[old.id] = backup
    del db.loans[new.id]
    return old, new, copy


async def test_a_return_finding_a_restored_loan_whose_copy_is_out_on_a_newer_one_checks_the_copy_in(
    db: FakeLoansDatabase, desk: Desk
) -> None:
    """The scan closed the restored loan as returned today by its patron, fined to today, and left the copy
    out on the newer loan for a second scan a minute later (finding 1, F6): now the restored loan is closed with
    no fine and the copy is checked in from the newer loan in the same scan, which answers that loan."""
    old, new, copy = await restored_over_a_new_loan(db, desk)
    desk.clock.advance(timedelta(days=30))  # long past the old loan's due date
    returned = await desk.return_loan(ReturnLoan(barcode=desk.catalog.barcode(copy), actor=DESK))
    assert (returned.name, returned.status, returned.patron) == (new.name, LoanStatus.RETURNED, "")
    assert desk.catalog.status(copy) == "AVAILABLE"
    assert (db.loans[old.id].status, db.loans[old.id].returned_at) == (LoanStatus.RETURNED, desk.clock.now())
    assert db.fines == {}
    (closed,) = [event for event in db.events if isinstance(event, LoanReturned) and event.loan.id == old.id][-1:]
    assert (closed.overdue_days, closed.fine) == (0, None)
    (audited,) = [event for event in db.events if isinstance(event, UnrecordedLoanReturned)]
    assert audited.loan.name == new.name
    assert (await desk.reconcile()).discrepancies == []


async def test_a_restored_loan_whose_copy_went_out_again_too_recently_to_tell_is_closed_and_the_copy_left_out(
    db: FakeLoansDatabase, desk: Desk
) -> None:
    """An issue of the newer loan may still be under way: the desk is told to retry in a minute, and its retry
    checks the copy in (the restored loan, closed already, is not found again)."""
    old, new, copy = await restored_over_a_new_loan(db, desk)
    with pytest.raises(Conflict, match="an issue may still be under way") as refused:
        await desk.return_loan(ReturnLoan(barcode=desk.catalog.barcode(copy), actor=DESK))
    assert refused.value.reason == LOAN_UNSETTLED and desk.catalog.status(copy) == "ON_LOAN"
    assert db.loans[old.id].status == LoanStatus.RETURNED and db.fines == {}
    past_any_issue_in_flight(desk)
    returned = await desk.return_loan(ReturnLoan(barcode=desk.catalog.barcode(copy), actor=DESK))
    assert (returned.name, desk.catalog.status(copy)) == (new.name, "AVAILABLE")


async def test_two_desks_scanning_a_restored_loan_at_once_fine_nobody(
    db: FakeLoansDatabase, desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both desks noted the return; the first desk's check-in was still on its way when the second's was refused
    (the copy out on the newer loan): the second took the first desk's note for an earlier try of its own whose
    answer was lost, and closed the restored loan as returned today by its old patron, fined to today."""
    old, new, copy = await restored_over_a_new_loan(db, desk)
    desk.clock.advance(timedelta(days=30))  # long past the old loan's due date
    first_desk_at_catalog, second_desk_done = asyncio.Event(), asyncio.Event()
    check_in, calls = desk.catalog.check_in, []

    async def first_one_slow(**step: str) -> CopyInfo:
        calls.append(step)
        if len(calls) == 1:
            first_desk_at_catalog.set()
            await second_desk_done.wait()
        return await check_in(**step)

    monkeypatch.setattr(desk.catalog, "check_in", first_one_slow)
    scan = ReturnLoan(barcode=desk.catalog.barcode(copy), actor=DESK)
    first_desk = asyncio.create_task(desk.return_loan(scan))
    await first_desk_at_catalog.wait()
    second = await desk.return_loan(scan)
    second_desk_done.set()
    first = await first_desk  # its check-in ends a loan already ended: it finds the old loan closed
    assert (first.name, first.status) == (old.name, LoanStatus.RETURNED)
    assert (second.name, second.status) == (new.name, LoanStatus.RETURNED)
    assert desk.catalog.status(copy) == "AVAILABLE" and db.fines == {}
    (closed,) = [event for event in db.events if isinstance(event, LoanReturned) and event.loan.id == old.id][-1:]
    assert (closed.overdue_days, closed.fine) == (0, None)
    assert [event.loan.name for event in db.events if isinstance(event, UnrecordedLoanReturned)] == [new.name]


async def test_a_restored_loan_whose_scan_stopped_after_its_note_is_closed_by_the_reconciler_without_a_fine(
    db: FakeLoansDatabase, desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The desk's process died between the return's note and the catalog's check-in: the reconciler took the
    note for a return that had reached the catalog (the copy is no longer out on the loan) and finished it,
    fined from the old due date to the scan."""
    old, _, copy = await restored_over_a_new_loan(db, desk)
    desk.clock.advance(timedelta(days=30))

    async def dies_before_the_catalog(**step: str) -> CopyInfo:
        raise Crash

    monkeypatch.setattr(desk.catalog, "check_in", dies_before_the_catalog)
    with pytest.raises(Crash):
        await desk.return_loan(ReturnLoan(barcode=desk.catalog.barcode(copy), actor=DESK))
    past_any_issue_in_flight(desk)
    report = await desk.reconcile()
    assert report.returns_settled == 1 and db.loans[old.id].status == LoanStatus.RETURNED and db.fines == {}
    (closed,) = [event for event in db.events if isinstance(event, LoanReturned) and event.loan.id == old.id][-1:]
    assert (closed.overdue_days, closed.fine) == (0, None)
    assert desk.catalog.status(copy) == "ON_LOAN"  # out on the newer loan: its return by barcode checks it in


async def test_a_copy_back_from_a_loan_lost_with_a_restore_at_another_branch_is_sent_to_the_pickup_branch(
    db: FakeLoansDatabase, desk: Desk
) -> None:
    loan, copy = await lent_then_lost(db, desk)
    hold = await desk.place_hold(PlaceHold("users/p2", loan.book, pickup_branch="EAST", actor=DESK))
    past_any_issue_in_flight(desk)
    back = await desk.return_loan(ReturnLoan(barcode=desk.catalog.barcode(copy), branch="MAIN", actor=DESK))
    assert (desk.catalog.status(copy), desk.catalog.copies[copy].current_hold) == ("IN_TRANSIT", hold.name)
    assert (db.holds[hold.id].status, db.holds[hold.id].copy) == (HoldStatus.IN_TRANSIT, copy)
    assert (back.trapped_hold, back.transit_branch) == (hold.name, "EAST")
