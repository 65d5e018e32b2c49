"""Staff take a copy set aside for a hold (on the hold shelf, or in transit) out of circulation: the hold goes back
to its place in the queue (finding B1). A copy released from another branch's hold shelf that nobody takes is sent
home, and made available when its own branch receives it (finding B2)."""

from __future__ import annotations

import uuid
from dataclasses import replace

import pytest

from services.loans.app.holding import CancelHold, GetHold, PlaceHold, get_hold
from services.loans.app.missing import ReportHoldCopyMissing, report_hold_copy_missing
from services.loans.domain.hold_events import HoldCopyMissing
from services.loans.domain.hold_record import HoldStatus
from services.loans.domain.holds import Hold
from services.support.runtime.errors import FailedPrecondition, InvalidArgument

from ..desk import DESK, Desk
from ..fakes import FakeLoansDatabase


async def _take_out(desk: Desk, hold: Hold, status: str, *, request_id: uuid.UUID | None = None) -> Hold:
    command = ReportHoldCopyMissing(hold.id, hold.copy, request_id, DESK, copy_status=status)
    return await report_hold_copy_missing(
        command, uow=desk.uow(), clock=desk.clock, catalog=desk.catalog, zone=desk.policy.time_zone
    )


def _at(desk: Desk, copy: str, branch: str) -> None:
    desk.catalog.copies[copy] = replace(desk.catalog.copies[copy], branch=branch)


async def test_a_damaged_copy_on_the_hold_shelf_leaves_circulation_and_its_hold_keeps_the_head_of_the_queue(
    db: FakeLoansDatabase, desk: Desk
) -> None:
    book, (copy,) = desk.catalog.add_book()
    first = await desk.place_hold(PlaceHold("users/p1", book, pickup_branch="MAIN", actor=DESK))
    ready = await desk.receive(copy, branch="MAIN")
    second = await desk.place_hold(PlaceHold("users/p2", book, pickup_branch="MAIN", actor=DESK))
    assert ready.status == HoldStatus.READY
    request_id = uuid.uuid4()
    answer = await _take_out(desk, ready, "DAMAGED", request_id=request_id)
    again = await _take_out(desk, ready, "DAMAGED", request_id=request_id)  # a retry: the same answer
    assert (answer.status, answer.copy, answer.expire_at, answer.ready_at) == (HoldStatus.WAITING, "", None, None)
    assert again.id == answer.id and again.status == HoldStatus.WAITING
    assert (desk.catalog.status(copy), desk.catalog.copies[copy].current_hold) == ("DAMAGED", "")
    async with desk.uow() as uow:
        queue = await uow.holds.waiting(book, limit=10)
    assert [hold.id for hold in queue] == [first.id, second.id]  # back at its place, nobody gets the copy
    (taken_out,) = [event for event in db.events if isinstance(event, HoldCopyMissing)]
    assert (taken_out.copy, taken_out.copy_status, taken_out.reported_by) == (copy, "DAMAGED", DESK.user)


async def test_a_withdrawn_copy_in_transit_gives_its_hold_another_copy_on_the_shelf(desk: Desk) -> None:
    book, copies = desk.catalog.add_book(copies=2)
    hold = await desk.place_hold(PlaceHold("users/p1", book, pickup_branch="MAIN", actor=DESK))
    (other,) = [copy for copy in copies if copy != hold.copy]
    answer = await _take_out(desk, hold, "WITHDRAWN")
    assert (answer.status, answer.copy) == (HoldStatus.IN_TRANSIT, other)
    assert desk.catalog.status(hold.copy) == "WITHDRAWN"


async def test_a_copy_is_not_made_available_through_the_report_nor_taken_from_a_waiting_hold(desk: Desk) -> None:
    book, _ = desk.catalog.add_book()
    hold = await desk.place_hold(PlaceHold("users/p1", book, actor=DESK))
    with pytest.raises(InvalidArgument):
        await _take_out(desk, hold, "AVAILABLE")
    waiting = await desk.place_hold(PlaceHold("users/p2", book, actor=DESK))
    with pytest.raises(FailedPrecondition) as refused:
        await _take_out(desk, waiting, "DAMAGED")
    assert refused.value.reason == "HOLD_NOT_IN_TRANSIT" and desk.catalog.status(hold.copy) == "IN_TRANSIT"


async def test_a_copy_left_on_another_branchs_hold_shelf_is_sent_home_and_available_when_home_receives_it(
    desk: Desk,
) -> None:
    book, (copy,) = desk.catalog.add_book()
    _at(desk, copy, "MAIN")
    hold = await desk.place_hold(PlaceHold("users/p1", book, pickup_branch="EAST", actor=DESK))
    await desk.receive(copy, branch="EAST")
    await desk.cancel_hold(CancelHold(hold.id, actor=DESK))
    assert (desk.catalog.status(copy), desk.catalog.copies[copy].current_hold) == ("IN_TRANSIT", "")
    assert desk.catalog.sent_home == {copy: "EAST"}  # on EAST's list of copies to send home, not available
    with pytest.raises(FailedPrecondition) as elsewhere:
        await desk.receive(copy, branch="EAST")
    assert (elsewhere.value.reason, elsewhere.value.metadata["branch"]) == ("COPY_IN_TRANSIT_HOME", "MAIN")
    with pytest.raises(FailedPrecondition) as home:
        await desk.receive(copy, branch="MAIN")
    assert home.value.reason == "COPY_RECEIVED_HOME" and desk.catalog.status(copy) == "AVAILABLE"


async def test_a_copy_coming_home_goes_to_a_hold_placed_meanwhile(desk: Desk) -> None:
    book, (copy,) = desk.catalog.add_book()
    _at(desk, copy, "MAIN")
    hold = await desk.place_hold(PlaceHold("users/p1", book, pickup_branch="EAST", actor=DESK))
    await desk.receive(copy, branch="EAST")
    await desk.cancel_hold(CancelHold(hold.id, actor=DESK))
    later = await desk.place_hold(PlaceHold("users/p2", book, pickup_branch="MAIN", actor=DESK))
    assert later.status == HoldStatus.WAITING  # the copy is on its way home, not available
    received = await desk.receive(copy, branch="MAIN")
    assert (received.id, received.status, received.copy) == (later.id, HoldStatus.READY, copy)


async def test_a_copy_released_from_its_own_branchs_hold_shelf_stays_available(desk: Desk) -> None:
    book, (copy,) = desk.catalog.add_book()
    _at(desk, copy, "MAIN")
    hold = await desk.place_hold(PlaceHold("users/p1", book, pickup_branch="main", actor=DESK))
    await desk.receive(copy, branch="MAIN")
    await desk.cancel_hold(CancelHold(hold.id, actor=DESK))
    assert desk.catalog.status(copy) == "AVAILABLE" and not desk.catalog.sent_home


async def _sent_home_from_east(desk: Desk) -> tuple[str, str]:
    """A book with one copy of MAIN, left on EAST's hold shelf by a cancelled hold: on its way home from EAST."""
    book, (copy,) = desk.catalog.add_book()
    _at(desk, copy, "MAIN")
    hold = await desk.place_hold(PlaceHold("users/p1", book, pickup_branch="EAST", actor=DESK))
    await desk.receive(copy, branch="EAST")
    await desk.cancel_hold(CancelHold(hold.id, actor=DESK))
    assert desk.catalog.sent_home == {copy: "EAST"}
    return book, copy


async def test_a_copy_waiting_to_be_sent_home_is_trapped_for_a_hold_picked_up_where_it_is(desk: Desk) -> None:
    book, copy = await _sent_home_from_east(desk)
    later = await desk.place_hold(PlaceHold("users/p2", book, pickup_branch="EAST", actor=DESK))
    received = await desk.receive(copy, branch="east")  # still at EAST: on its hold shelf at once, not via MAIN
    assert (received.id, received.status, received.copy, received.pickup_branch) == (
        later.id,
        HoldStatus.READY,
        copy,
        "EAST",
    )
    assert desk.catalog.status(copy) == "ON_HOLD_SHELF" and not desk.catalog.sent_home


async def test_a_copy_moving_home_scanned_elsewhere_is_sent_on_to_the_pickup_branch_of_the_hold_it_serves(
    desk: Desk,
) -> None:
    book, copy = await _sent_home_from_east(desk)
    later = await desk.place_hold(PlaceHold("users/p2", book, pickup_branch="WEST", actor=DESK))
    received = await desk.receive(copy, branch="EAST")
    assert (received.id, received.status, received.copy, received.to_pull) == (
        later.id,
        HoldStatus.IN_TRANSIT,
        copy,
        False,
    )
    assert desk.catalog.copies[copy].current_hold == later.name and not desk.catalog.sent_home


async def test_a_copy_moving_home_that_no_hold_may_have_is_still_sent_on(desk: Desk) -> None:
    _, copy = await _sent_home_from_east(desk)
    with pytest.raises(FailedPrecondition) as elsewhere:
        await desk.receive(copy, branch="WEST")
    assert elsewhere.value.reason == "COPY_IN_TRANSIT_HOME"
    assert desk.catalog.status(copy) == "IN_TRANSIT" and desk.catalog.sent_home == {copy: "EAST"}


async def test_a_hold_back_in_the_queue_is_answered_with_its_place_as_get_hold_reads_it(desk: Desk) -> None:
    book, (copy,) = desk.catalog.add_book()
    ready = await desk.place_hold(PlaceHold("users/p1", book, pickup_branch="MAIN", actor=DESK))
    await desk.receive(copy, branch="MAIN")
    await desk.place_hold(PlaceHold("users/p2", book, pickup_branch="MAIN", actor=DESK))
    answer = await _take_out(desk, ready, "DAMAGED")
    read = await get_hold(GetHold(ready.id, actor=DESK), uow=desk.uow())
    assert (answer.status, answer.queue_position) == (HoldStatus.WAITING, 1) == (read.status, read.queue_position)
