"""A copy in transit for a hold (pulled from the open shelf, or sent from another branch) scanned at a desk's
Return was refused "not on loan" with a hint to scan it in Receive. Koha's and Evergreen's check-in receive it
themselves: at the hold's pickup branch it goes on the hold shelf, elsewhere it is sent on. The Return now does
what Receive would, and its answer (there is no loan) says what was done: COPY_RECEIVED_FOR_HOLD."""

from __future__ import annotations

from dataclasses import replace

import pytest

from services.loans.app.holding import PlaceHold
from services.loans.app.returning import ReturnLoan
from services.loans.domain.hold_record import HOLD, HoldStatus
from services.support.runtime.errors import FailedPrecondition

from ..desk import DESK, Desk
from ..fakes import FakeLoansDatabase
from .test_passing_over import block


async def _pulled_for_east(desk: Desk) -> tuple[str, str]:
    """A MAIN copy set aside from the open shelf for a hold picked up at EAST: the hold's name and the copy's."""
    book, (copy,) = desk.catalog.add_book()
    desk.catalog.copies[copy] = replace(desk.catalog.copies[copy], branch="MAIN")
    hold = await desk.place_hold(PlaceHold("users/p1", book, pickup_branch="EAST", actor=DESK))
    assert (hold.status, desk.catalog.status(copy)) == (HoldStatus.IN_TRANSIT, "IN_TRANSIT")
    return hold.name, copy


async def _hand_in(desk: Desk, copy: str, branch: str) -> FailedPrecondition:
    with pytest.raises(FailedPrecondition) as refused:
        await desk.return_loan(ReturnLoan(barcode=desk.catalog.barcode(copy), actor=DESK, branch=branch))
    return refused.value


async def _hold_status(desk: Desk, name: str) -> HoldStatus:
    async with desk.uow() as uow:
        return (await uow.holds.get(HOLD.parse_id(name))).status


async def test_a_copy_in_transit_handed_in_at_the_pickup_branch_goes_on_the_hold_shelf(desk: Desk) -> None:
    hold, copy = await _pulled_for_east(desk)
    refused = await _hand_in(desk, copy, "EAST")
    assert refused.reason == "COPY_RECEIVED_FOR_HOLD"
    said = {key: refused.metadata[key] for key in ("hold", "status", "pickup_branch", "patron", "came_home")}
    expected = {"hold": hold, "status": "READY", "pickup_branch": "EAST", "patron": "users/p1", "came_home": "false"}
    assert said == expected
    assert (desk.catalog.status(copy), desk.catalog.copies[copy].current_hold) == ("ON_HOLD_SHELF", hold)
    assert await _hold_status(desk, hold) == HoldStatus.READY


async def test_a_copy_in_transit_handed_in_at_another_branch_is_to_be_sent_on_and_off_the_pull_list(
    desk: Desk,
) -> None:
    hold, copy = await _pulled_for_east(desk)
    refused = await _hand_in(desk, copy, "MAIN")
    assert refused.reason == "COPY_RECEIVED_FOR_HOLD"
    assert (refused.metadata["status"], refused.metadata["pickup_branch"]) == ("IN_TRANSIT", "EAST")
    assert "send it to EAST" in str(refused)
    assert desk.catalog.status(copy) == "IN_TRANSIT"
    async with desk.uow() as uow:
        sent = await uow.holds.get(HOLD.parse_id(hold))
    assert (sent.status, sent.to_pull) == (HoldStatus.IN_TRANSIT, False)  # pulled here and sent: as by Receive


async def test_a_copy_sent_on_by_a_return_is_received_by_the_return_at_the_pickup_branch(desk: Desk) -> None:
    hold, copy = await _pulled_for_east(desk)
    await _hand_in(desk, copy, "MAIN")
    refused = await _hand_in(desk, copy, "EAST")
    assert (refused.reason, refused.metadata["status"]) == ("COPY_RECEIVED_FOR_HOLD", "READY")
    assert await _hold_status(desk, hold) == HoldStatus.READY


async def test_a_copy_in_transit_for_a_reader_who_may_not_borrow_is_passed_over_as_by_receive(
    db: FakeLoansDatabase, desk: Desk
) -> None:
    hold, copy = await _pulled_for_east(desk)
    block(db, "users/p1")
    refused = await _hand_in(desk, copy, "EAST")
    assert (refused.reason, refused.metadata["hold"]) == ("HOLD_PATRON_MAY_NOT_BORROW", hold)
    assert (desk.catalog.copies[copy].current_hold, await _hold_status(desk, hold)) == ("", HoldStatus.WAITING)
