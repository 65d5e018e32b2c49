"""A copy in transit for a hold handed in at a desk's Return, against real Postgres: received as the desk's
Receive would (sent on from another branch, off its pull list; READY at the pickup branch), the hold's state
committed, and the answer COPY_RECEIVED_FOR_HOLD (there is no loan to answer)."""

from __future__ import annotations

from dataclasses import replace

import pytest
from loans_world import DESK, World

from services.loans.app.holding import PlaceHold
from services.loans.app.returning import ReturnLoan
from services.loans.domain.hold_record import HOLD, HoldStatus
from services.support.runtime.errors import FailedPrecondition

pytestmark = pytest.mark.integration


async def _handed_in(world: World, barcode: str, branch: str) -> FailedPrecondition:
    with pytest.raises(FailedPrecondition) as refused:
        await world.return_loan(ReturnLoan(barcode=barcode, actor=DESK, branch=branch))
    assert refused.value.reason == "COPY_RECEIVED_FOR_HOLD"
    return refused.value


async def test_a_pulled_copy_returned_at_its_branch_is_sent_on_and_at_the_pickup_branch_is_shelved(
    world: World,
) -> None:
    book, (copy,) = world.catalog.add_book("The Gentleman from San Francisco")
    world.catalog.copies[copy] = replace(world.catalog.copies[copy], branch="MAIN")
    placed = await world.place_hold(PlaceHold("users/p1", book, pickup_branch="EAST", actor=DESK))
    assert (placed.status, placed.to_pull) == (HoldStatus.IN_TRANSIT, True)
    barcode = world.catalog.barcode(copy)

    assert (await _handed_in(world, barcode, "MAIN")).metadata["status"] == "IN_TRANSIT"
    async with world.uow() as uow:
        sent = await uow.holds.get(HOLD.parse_id(placed.name))
    assert (sent.status, sent.to_pull) == (HoldStatus.IN_TRANSIT, False)  # off MAIN's pull list

    assert (await _handed_in(world, barcode, "EAST")).metadata["status"] == "READY"
    async with world.uow() as uow:
        ready = await uow.holds.get(HOLD.parse_id(placed.name))
    assert ready.status == HoldStatus.READY and ready.expire_at is not None
    assert world.catalog.status(copy) == "ON_HOLD_SHELF"
