"""The pull list and transit between branches with fakes: a copy set aside for a hold is READY only once the
pickup desk receives it."""

from __future__ import annotations

import uuid
from dataclasses import replace

import pytest

from services.loans.api.convert import hold_to_proto
from services.loans.app.holding import CancelHold, PlaceHold
from services.loans.app.issuing import IssueLoan
from services.loans.app.receiving import ReceiveHoldCopy, receive_hold_copy
from services.loans.app.returning import ReturnLoan
from services.loans.domain.hold_events import HoldCopyReceived, HoldInTransit
from services.loans.domain.hold_record import HoldStatus
from services.support.runtime.errors import FailedPrecondition, InvalidArgument, NotFound, PermissionDenied

from ..desk import DESK, Crash, Desk, crash_after_check_in, reader
from ..fakes import FakeLoansDatabase


async def test_a_copy_pulled_for_a_hold_is_ready_only_at_its_pickup_branch(db: FakeLoansDatabase, desk: Desk) -> None:
    book, (copy,) = desk.catalog.add_book()
    hold = await desk.place_hold(PlaceHold("users/p1", book, pickup_branch="EAST", actor=DESK))
    assert hold.status == HoldStatus.IN_TRANSIT and desk.catalog.status(copy) == "IN_TRANSIT"
    elsewhere = await desk.receive(copy, branch="MAIN")  # pulled at MAIN: send it to EAST
    assert (elsewhere.status, elsewhere.pickup_branch) == (HoldStatus.IN_TRANSIT, "EAST")
    # set aside on MAIN's open shelf, then sent on from MAIN's desk: both on the audit trail
    assert desk.catalog.status(copy) == "IN_TRANSIT"
    assert db.event_types() == ["HoldPlaced", "HoldInTransit", "HoldInTransit"]
    received = await desk.receive(copy, branch=" east ")  # as typed at the desk
    assert received.status == HoldStatus.READY and received.copy == copy and received.expire_at is not None
    assert (desk.catalog.status(copy), desk.catalog.copies[copy].current_hold) == ("ON_HOLD_SHELF", hold.name)
    done = ["HoldPlaced", "HoldInTransit", "HoldInTransit", "HoldReady", "HoldCopyReceived"]
    assert db.event_types() == done
    again = await desk.receive(copy, branch="EAST")  # a second scan changes nothing
    assert again.status == HoldStatus.READY and db.event_types() == done


async def test_a_desk_that_does_not_say_where_it_is_receives_only_for_a_hold_with_no_pickup_branch(
    desk: Desk,
) -> None:
    book, (copy,) = desk.catalog.add_book()
    await desk.place_hold(PlaceHold("users/p1", book, pickup_branch="EAST", actor=DESK))
    assert (await desk.receive(copy, branch="")).status == HoldStatus.IN_TRANSIT


async def test_receiving_is_refused_for_a_copy_not_set_aside_an_unknown_barcode_a_reader_and_no_barcode(
    desk: Desk,
) -> None:
    book, (copy, free) = desk.catalog.add_book(copies=2)
    await desk.place_hold(PlaceHold("users/p1", book, actor=DESK))
    held = copy if desk.catalog.status(copy) == "IN_TRANSIT" else free
    not_held = free if held == copy else copy
    with pytest.raises(FailedPrecondition) as refused:
        await desk.receive(not_held)
    assert refused.value.reason == "COPY_NOT_HELD"
    with pytest.raises(PermissionDenied):
        await desk.receive(held, actor=reader("users/p1"))

    async def receive(barcode: str) -> object:
        command = ReceiveHoldCopy(barcode, "MAIN", actor=DESK)
        return await receive_hold_copy(
            command, uow=desk.uow(), clock=desk.clock, catalog=desk.catalog, zone=desk.policy.time_zone
        )

    with pytest.raises(NotFound) as unknown:
        await receive("NO-SUCH-LABEL")
    assert unknown.value.reason == "BARCODE_NOT_FOUND"
    with pytest.raises(InvalidArgument):
        await receive("  ")


async def test_a_retry_of_a_receipt_is_answered_as_the_first(db: FakeLoansDatabase, desk: Desk) -> None:
    book, (copy,) = desk.catalog.add_book()
    hold = await desk.place_hold(PlaceHold("users/p1", book, actor=DESK))
    request_id = uuid.uuid4()
    command = ReceiveHoldCopy(desk.catalog.barcode(copy), "MAIN", request_id=request_id, actor=DESK)
    first = await receive_hold_copy(
        command, uow=desk.uow(), clock=desk.clock, catalog=desk.catalog, zone=desk.policy.time_zone
    )
    desk.catalog.down = True  # the retry is answered from the ledger, the catalog not asked
    again = await receive_hold_copy(
        command, uow=desk.uow(), clock=desk.clock, catalog=desk.catalog, zone=desk.policy.time_zone
    )
    assert first.id == again.id == hold.id and again.status == HoldStatus.READY


async def test_a_return_at_another_branch_sends_the_copy_to_the_pickup_branch(
    db: FakeLoansDatabase, desk: Desk
) -> None:
    book, (copy,) = desk.catalog.add_book()
    lent = await desk.issue(IssueLoan("users/p1", book=book, actor=DESK))
    hold = await desk.place_hold(PlaceHold("users/p2", book, pickup_branch="EAST", actor=DESK))
    returned = await desk.return_loan(ReturnLoan(loan_id=lent.id, branch="MAIN", actor=DESK))
    assert (returned.trapped_hold, returned.transit_branch) == (hold.name, "EAST")
    assert db.holds[hold.id].status == HoldStatus.IN_TRANSIT and db.holds[hold.id].copy == copy
    assert desk.catalog.status(copy) == "IN_TRANSIT" and "HoldReady" not in db.event_types()
    assert (await desk.receive(copy, branch="EAST")).status == HoldStatus.READY
    assert desk.catalog.status(copy) == "ON_HOLD_SHELF" and db.event_types()[-2:] == ["HoldReady", "HoldCopyReceived"]


async def test_the_audit_trail_says_where_a_copy_in_transit_leaves_from_where_it_goes_and_who_received_it(
    db: FakeLoansDatabase, desk: Desk
) -> None:
    book, (copy,) = desk.catalog.add_book()
    desk.catalog.copies[copy] = replace(desk.catalog.copies[copy], branch="WEST")
    hold = await desk.place_hold(PlaceHold("users/p1", book, pickup_branch="EAST", actor=DESK))
    await desk.receive(copy, branch=" MAIN ")  # pulled and brought to MAIN's desk: sent on
    await desk.receive(copy, branch="EAST")
    lent = await desk.issue(IssueLoan("users/p1", book=book, actor=DESK))
    other = await desk.place_hold(PlaceHold("users/p2", book, pickup_branch="EAST", actor=DESK))
    await desk.return_loan(ReturnLoan(loan_id=lent.id, branch="NORTH", actor=DESK))
    transits = [(e.hold.name, e.from_branch, e.to_branch) for e in db.events if isinstance(e, HoldInTransit)]
    assert transits == [(hold.name, "WEST", "EAST"), (hold.name, "MAIN", "EAST"), (other.name, "NORTH", "EAST")]
    (received,) = [event for event in db.events if isinstance(event, HoldCopyReceived)]
    assert (received.hold.name, received.branch) == (hold.name, "EAST")


@pytest.mark.parametrize("desk_branch", ["EAST", "east ", ""])
async def test_a_return_at_the_pickup_branch_or_an_unnamed_desk_puts_the_copy_on_the_hold_shelf(
    db: FakeLoansDatabase, desk: Desk, desk_branch: str
) -> None:
    book, (copy,) = desk.catalog.add_book()
    lent = await desk.issue(IssueLoan("users/p1", book=book, actor=DESK))
    hold = await desk.place_hold(PlaceHold("users/p2", book, pickup_branch="EAST", actor=DESK))
    returned = await desk.return_loan(ReturnLoan(loan_id=lent.id, branch=desk_branch, actor=DESK))
    assert (returned.trapped_hold, returned.transit_branch) == (hold.name, "")
    assert db.holds[hold.id].status == HoldStatus.READY and desk.catalog.status(copy) == "ON_HOLD_SHELF"


@pytest.mark.parametrize("by", ["barcode", "book"])
async def test_a_copy_in_transit_is_lent_to_its_hold_s_patron_and_fills_the_hold(
    db: FakeLoansDatabase, desk: Desk, by: str
) -> None:
    book, (copy,) = desk.catalog.add_book()
    hold = await desk.place_hold(PlaceHold("users/p1", book, actor=DESK))
    with pytest.raises(FailedPrecondition):
        await desk.issue(IssueLoan("users/p2", barcode=desk.catalog.barcode(copy), actor=DESK))
    item = {"barcode": desk.catalog.barcode(copy)} if by == "barcode" else {"book": book}
    loan = await desk.issue(IssueLoan("users/p1", **item, actor=DESK))
    assert loan.copy == copy and desk.catalog.status(copy) == "ON_LOAN"
    filled = db.holds[hold.id]
    assert filled.status == HoldStatus.FULFILLED and filled.loan == loan.name and not filled.copy_left_on_shelf


async def test_a_copy_the_catalog_shelved_for_a_hold_still_in_transit_here_makes_it_ready(
    db: FakeLoansDatabase, desk: Desk
) -> None:
    """A crash after ReceiveHoldCopy's catalog step, before loans recorded it: the reconciler finishes it."""
    book, (copy,) = desk.catalog.add_book()
    hold = await desk.place_hold(PlaceHold("users/p1", book, actor=DESK))
    desk.catalog.copies[copy] = replace(desk.catalog.copies[copy], status="ON_HOLD_SHELF")
    report = await desk.reconcile()
    assert db.holds[hold.id].status == HoldStatus.READY and db.event_types()[-2:] == ["HoldReady", "HoldCopyReceived"]
    assert any(hold.name in line and "in transit here" in line for line in report.discrepancies)
    assert (await desk.reconcile()).discrepancies == []


@pytest.mark.parametrize(("pickup", "audited"), [("EAST", "EAST"), ("", "")])
async def test_a_receipt_finished_by_the_reconciler_is_audited_at_the_pickup_branch_s_desk(
    db: FakeLoansDatabase, desk: Desk, pickup: str, audited: str
) -> None:
    """Finding C5: the catalog shelves a copy for a hold only when a desk of its pickup branch receives it, so the
    repaired receipt names that desk (it named none); with no pickup branch any desk may have, and none is named."""
    book, (copy,) = desk.catalog.add_book()
    hold = await desk.place_hold(PlaceHold("users/p1", book, pickup_branch="EAST", actor=DESK))
    db.holds[hold.id].pickup_branch = pickup  # "": a reader with no home branch, who named none
    desk.catalog.copies[copy] = replace(desk.catalog.copies[copy], status="ON_HOLD_SHELF")
    await desk.reconcile()
    (received,) = [event for event in db.events if isinstance(event, HoldCopyReceived)]
    assert (received.branch, db.holds[hold.id].status) == (audited, HoldStatus.READY)


async def test_a_copy_in_transit_for_a_hold_is_consistent_and_one_for_an_ended_hold_is_released(
    db: FakeLoansDatabase, desk: Desk
) -> None:
    book, (copy,) = desk.catalog.add_book()
    hold = await desk.place_hold(PlaceHold("users/p1", book, actor=DESK))
    assert (await desk.reconcile()).discrepancies == []
    db.holds[hold.id].status = HoldStatus.CANCELLED  # ended; its release never reached the catalog
    db.holds[hold.id].shelf_released = True
    report = await desk.reconcile()
    assert any(hold.name in line and "in transit" in line and "has ended" in line for line in report.discrepancies)
    assert (desk.catalog.status(copy), desk.catalog.copies[copy].current_hold) == ("AVAILABLE", "")


@pytest.mark.parametrize(("desk_branch", "sent_to"), [("MAIN", "EAST"), ("EAST", "")])
async def test_a_retried_return_is_answered_where_the_copy_went_as_the_first_answer_said(
    db: FakeLoansDatabase, desk: Desk, desk_branch: str, sent_to: str
) -> None:
    book, _ = desk.catalog.add_book()
    lent = await desk.issue(IssueLoan("users/p1", book=book, actor=DESK))
    hold = await desk.place_hold(PlaceHold("users/p2", book, pickup_branch="EAST", actor=DESK))
    command = ReturnLoan(loan_id=lent.id, branch=desk_branch, request_id=uuid.uuid4(), actor=DESK)
    first = await desk.return_loan(command)
    desk.catalog.down = True  # the retry is answered from the ledger, the catalog not asked
    again = await desk.return_loan(command)
    assert (first.trapped_hold, first.transit_branch) == (hold.name, sent_to)
    assert (again.trapped_hold, again.transit_branch) == (first.trapped_hold, first.transit_branch)
    assert again.name == first.name and again.status == first.status


async def test_a_ready_hold_s_copy_passed_on_is_to_pull_from_the_hold_shelf_it_sits_on(
    db: FakeLoansDatabase, desk: Desk
) -> None:
    """Cancelled (or expired) READY: its copy is on EAST's hold shelf, not on the open shelf of its branch."""
    book, (copy,) = desk.catalog.add_book()
    desk.catalog.copies[copy] = replace(desk.catalog.copies[copy], branch="MAIN")
    first = await desk.place_hold(PlaceHold("users/p1", book, pickup_branch="EAST", actor=DESK))
    await desk.receive(copy, branch="EAST")
    second = await desk.place_hold(PlaceHold("users/p2", book, pickup_branch="WEST", actor=DESK))
    await desk.cancel_hold(CancelHold(first.id, actor=DESK))
    passed = db.holds[second.id]
    assert (passed.status, passed.copy, passed.to_pull) == (HoldStatus.IN_TRANSIT, copy, True)
    assert passed.hold_shelf_branch == "EAST" and hold_to_proto(passed).hold_shelf_branch == "EAST"
    *_, sent = [event for event in db.events if isinstance(event, HoldInTransit)]
    assert (sent.hold.name, sent.from_branch, sent.to_branch) == (second.name, "EAST", "WEST")
    sent_on = await desk.receive(copy, branch="EAST")  # taken off EAST's hold shelf: sent on to WEST
    assert (sent_on.to_pull, sent_on.hold_shelf_branch) == (False, "")
    assert hold_to_proto(sent_on).hold_shelf_branch == ""


async def test_a_copy_pulled_from_the_open_shelf_names_no_hold_shelf(db: FakeLoansDatabase, desk: Desk) -> None:
    book, (copy,) = desk.catalog.add_book()
    first = await desk.place_hold(PlaceHold("users/p1", book, pickup_branch="EAST", actor=DESK))
    second = await desk.place_hold(PlaceHold("users/p2", book, pickup_branch="WEST", actor=DESK))
    await desk.cancel_hold(CancelHold(first.id, actor=DESK))  # IN_TRANSIT, never on a hold shelf
    passed = db.holds[second.id]
    assert (passed.status, passed.copy, passed.to_pull, passed.hold_shelf_branch) == (
        HoldStatus.IN_TRANSIT, copy, True, ""
    )  # fmt: skip


async def test_a_copy_sent_by_a_return_that_crashed_reads_as_sent_after_the_reconciler_s_repair(
    db: FakeLoansDatabase, desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The catalog checked the copy in IN_TRANSIT for the hold (the desk put it in the van to EAST), then the
    loans process died before the hold recorded it: repaired, it is on its way, not on MAIN's pull list."""
    book, (copy,) = desk.catalog.add_book()
    lent = await desk.issue(IssueLoan("users/p1", book=book, actor=DESK))
    hold = await desk.place_hold(PlaceHold("users/p2", book, pickup_branch="EAST", actor=DESK))
    crash_after_check_in(desk.catalog, monkeypatch)
    with pytest.raises(Crash):
        await desk.return_loan(ReturnLoan(loan_id=lent.id, branch="MAIN", actor=DESK))
    assert db.holds[hold.id].status == HoldStatus.WAITING and desk.catalog.status(copy) == "IN_TRANSIT"
    await desk.reconcile()
    repaired = db.holds[hold.id]
    assert (repaired.status, repaired.copy, repaired.to_pull) == (HoldStatus.IN_TRANSIT, copy, False)
    assert hold_to_proto(repaired).to_pull is False
    assert (await desk.receive(copy, branch="EAST")).status == HoldStatus.READY
