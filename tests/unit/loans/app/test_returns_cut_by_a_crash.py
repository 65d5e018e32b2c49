"""A return that trapped its copy for a hold, cut by a crash after the catalog's check-in: the reconciler closes
the loan saying where the copy goes, and the desk's retry with the same request_id is answered with it, as the
first call would have been (finding C3)."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from services.loans.app.holding import PlaceHold
from services.loans.app.issuing import IssueLoan
from services.loans.app.returning import ReturnLoan
from services.loans.domain.hold_record import HoldStatus
from services.loans.domain.loan_record import LoanStatus
from services.support.runtime.errors import FailedPrecondition

from ..desk import DESK, Crash, Desk, crash_after_check_in
from ..fakes import FakeLoansDatabase


@pytest.mark.parametrize(("desk_branch", "sent_to"), [("MAIN", "EAST"), ("EAST", "")])
async def test_a_return_finished_by_the_reconciler_keeps_where_its_copy_went_and_its_retry_is_answered(
    db: FakeLoansDatabase, desk: Desk, monkeypatch: pytest.MonkeyPatch, desk_branch: str, sent_to: str
) -> None:
    book, (copy,) = desk.catalog.add_book()
    lent = await desk.issue(IssueLoan("users/p1", book=book, actor=DESK))
    hold = await desk.place_hold(PlaceHold("users/p2", book, pickup_branch="EAST", actor=DESK))
    command = ReturnLoan(loan_id=lent.id, branch=desk_branch, request_id=uuid.uuid4(), actor=DESK)
    with monkeypatch.context() as patch, pytest.raises(Crash):  # then the process restarts
        crash_after_check_in(desk.catalog, patch)
        await desk.return_loan(command)
    assert desk.catalog.copies[copy].current_hold == hold.name
    desk.clock.advance(desk.reconcile_policy.saga_timeout + timedelta(seconds=1))
    assert (await desk.reconcile()).returns_settled == 1
    closed = db.loans[lent.id]
    assert closed.status == LoanStatus.RETURNED
    assert (closed.trapped_hold, closed.transit_branch) == (hold.name, sent_to)
    assert db.holds[hold.id].status == (HoldStatus.IN_TRANSIT if sent_to else HoldStatus.READY)
    again = await desk.return_loan(command)  # the desk's retry, as the API says: the same request_id
    assert (again.name, again.status) == (lent.name, LoanStatus.RETURNED)
    assert (again.trapped_hold, again.transit_branch) == (hold.name, sent_to)
    with pytest.raises(FailedPrecondition) as refused:  # another return of it is still refused
        await desk.return_loan(ReturnLoan(loan_id=lent.id, branch=desk_branch, request_id=uuid.uuid4(), actor=DESK))
    assert refused.value.reason == "LOAN_ALREADY_RETURNED"


async def test_a_copy_checked_in_to_the_open_shelf_and_set_aside_later_is_no_trap_of_the_return(
    db: FakeLoansDatabase, desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Nobody waited at the return; a hold placed before the reconciler's pass had the copy put on the pull list."""
    book, (copy,) = desk.catalog.add_book()
    lent = await desk.issue(IssueLoan("users/p1", book=book, actor=DESK))
    with monkeypatch.context() as patch, pytest.raises(Crash):
        crash_after_check_in(desk.catalog, patch)
        await desk.return_loan(ReturnLoan(loan_id=lent.id, branch="MAIN", request_id=uuid.uuid4(), actor=DESK))
    hold = await desk.place_hold(PlaceHold("users/p2", book, pickup_branch="EAST", actor=DESK))
    assert desk.catalog.copies[copy].current_hold == hold.name
    desk.clock.advance(desk.reconcile_policy.saga_timeout + timedelta(seconds=1))
    await desk.reconcile()
    closed = db.loans[lent.id]
    assert (closed.status, closed.trapped_hold, closed.transit_branch) == (LoanStatus.RETURNED, "", "")
