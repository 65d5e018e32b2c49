"""A hold that ends while its copy is on its way between branches (sent by a desk: a return at another branch,
or pulled and sent on) does not put the copy back on any shelf: it is in the van (finding F4). The next hold
that may have it has it sent on from where it arrives; with nobody to take it, it goes home from there."""

from __future__ import annotations

import uuid
from dataclasses import replace

import pytest

from services.loans.app.holding import CancelHold, PlaceHold
from services.loans.app.issuing import IssueLoan
from services.loans.app.returning import ReturnLoan
from services.loans.domain.hold_record import HoldStatus
from services.support.runtime.errors import FailedPrecondition

from ..desk import DESK, Desk


def _at(desk: Desk, copy: str, branch: str) -> None:
    desk.catalog.copies[copy] = replace(desk.catalog.copies[copy], branch=branch)


async def _sent_to_main(desk: Desk) -> tuple[str, str, uuid.UUID]:
    """A book with one copy of EAST, pulled there and sent on to MAIN for a hold picked up at MAIN."""
    book, (copy,) = desk.catalog.add_book()
    _at(desk, copy, "EAST")
    hold = await desk.place_hold(PlaceHold("users/p1", book, pickup_branch="MAIN", actor=DESK))
    sent = await desk.receive(copy, branch="EAST")
    assert (sent.status, sent.to_pull) == (HoldStatus.IN_TRANSIT, False)  # in the van to MAIN
    return book, copy, hold.id


async def test_a_copy_in_the_van_whose_hold_is_cancelled_goes_home_from_where_it_arrives(desk: Desk) -> None:
    _, copy, hold = await _sent_to_main(desk)
    await desk.cancel_hold(CancelHold(hold, actor=DESK))
    assert (desk.catalog.status(copy), desk.catalog.copies[copy].current_hold) == ("IN_TRANSIT", "")
    assert desk.catalog.sent_home == {copy: "MAIN"}  # not AVAILABLE on EAST's shelf: MAIN sends it home
    with pytest.raises(FailedPrecondition) as at_main:
        await desk.receive(copy, branch="MAIN")
    assert (at_main.value.reason, at_main.value.metadata["branch"]) == ("COPY_IN_TRANSIT_HOME", "EAST")
    with pytest.raises(FailedPrecondition) as at_east:
        await desk.receive(copy, branch="EAST")
    assert at_east.value.reason == "COPY_RECEIVED_HOME" and desk.catalog.status(copy) == "AVAILABLE"


async def test_a_copy_in_the_van_whose_hold_is_cancelled_is_sent_on_to_the_next_hold_not_pulled(desk: Desk) -> None:
    book, copy, hold = await _sent_to_main(desk)
    later = await desk.place_hold(PlaceHold("users/p2", book, pickup_branch="EAST", actor=DESK))
    await desk.cancel_hold(CancelHold(hold, actor=DESK))
    async with desk.uow() as uow:
        next_hold = await uow.holds.get(later.id)
    assert (next_hold.status, next_hold.copy, next_hold.to_pull, next_hold.hold_shelf_branch) == (
        HoldStatus.IN_TRANSIT,
        copy,
        False,  # on EAST's "on the way here", on nobody's pull list
        "",
    )
    assert desk.catalog.copies[copy].current_hold == later.name and not desk.catalog.sent_home
    at_main = await desk.receive(copy, branch="MAIN")  # where the van arrives: send it on to EAST
    assert (at_main.id, at_main.status) == (later.id, HoldStatus.IN_TRANSIT)
    at_east = await desk.receive(copy, branch="EAST")
    assert (at_east.id, at_east.status) == (later.id, HoldStatus.READY)


async def test_a_copy_to_pull_whose_hold_is_cancelled_is_available_on_its_shelf_again(desk: Desk) -> None:
    book, (copy,) = desk.catalog.add_book()
    _at(desk, copy, "EAST")
    hold = await desk.place_hold(PlaceHold("users/p1", book, pickup_branch="MAIN", actor=DESK))
    await desk.cancel_hold(CancelHold(hold.id, actor=DESK))
    assert desk.catalog.status(copy) == "AVAILABLE" and not desk.catalog.sent_home


async def test_a_copy_returned_elsewhere_and_sent_for_a_hold_then_cancelled_goes_to_the_next_hold_in_the_van(
    desk: Desk,
) -> None:
    book, (copy,) = desk.catalog.add_book()
    _at(desk, copy, "MAIN")
    loan = await desk.issue(IssueLoan("users/p0", book=book, actor=DESK))
    first = await desk.place_hold(PlaceHold("users/p1", book, pickup_branch="MAIN", actor=DESK))
    returned = await desk.return_loan(ReturnLoan(loan_id=loan.id, actor=DESK, branch="EAST"))
    assert (returned.trapped_hold, returned.transit_branch) == (first.name, "MAIN")  # in the van to MAIN
    later = await desk.place_hold(PlaceHold("users/p2", book, pickup_branch="EAST", actor=DESK))
    await desk.cancel_hold(CancelHold(first.id, actor=DESK))
    async with desk.uow() as uow:
        next_hold = await uow.holds.get(later.id)
    assert (next_hold.status, next_hold.copy, next_hold.to_pull) == (HoldStatus.IN_TRANSIT, copy, False)
    assert desk.catalog.status(copy) == "IN_TRANSIT"  # not on MAIN's pull list: MAIN sends it back on arrival
