"""The patron's standing on real Postgres counts their holds not ended, on any title, in the same statement as
their loans and fines: an issue looks for the hold it fills only when there is one (issuing._hold_filled)."""

from __future__ import annotations

import uuid

import pytest
from loans_world import DESK, World

from services.loans.app.holding import CancelHold, PlaceHold
from services.loans.app.issuing import IssueLoan
from services.loans.app.returning import ReturnLoan
from services.loans.domain.borrowing import CopyInfo, Standing
from services.loans.domain.hold_record import HoldStatus

pytestmark = pytest.mark.integration


async def _standings(world: World, patron: str) -> tuple[Standing, Standing]:
    async with world.uow().reading() as uow:
        every_type = await uow.loans.standing(patron, item_type="*", now=world.clock.now())
        one_type = await uow.loans.standing(patron, item_type="BOOK", now=world.clock.now())
    return every_type, one_type


async def test_the_standing_counts_waiting_and_set_aside_holds_and_not_ended_ones(world: World) -> None:
    book, (copy,) = world.catalog.add_book()
    lent = await world.issue(IssueLoan("users/p1", book=book, actor=DESK))
    assert {s.active_holds for s in await _standings(world, "users/p2")} == {0}
    waiting = await world.place_hold(PlaceHold("users/p2", book, actor=DESK))
    other, _ = world.catalog.add_book(copies=0)
    cancelled = await world.place_hold(PlaceHold("users/p2", other, actor=DESK))
    await world.cancel_hold(CancelHold(cancelled.id, actor=DESK))
    assert {(s.active_holds, s.ready_holds) for s in await _standings(world, "users/p2")} == {(1, 0)}
    await world.return_loan(ReturnLoan(loan_id=lent.id, actor=DESK))  # the copy is trapped for the hold
    async with world.uow().reading() as uow:
        assert (await uow.holds.get(waiting.id)).status in (HoldStatus.IN_TRANSIT, HoldStatus.READY)
    assert {(s.active_holds, s.ready_holds) for s in await _standings(world, "users/p2")} == {(1, 1)}
    loan = await world.issue(IssueLoan("users/p2", barcode=world.catalog.barcode(copy), actor=DESK))
    async with world.uow().reading() as uow:
        assert (await uow.holds.get(waiting.id)).loan == loan.name
    assert {(s.active_holds, s.ready_holds) for s in await _standings(world, "users/p2")} == {(0, 0)}


async def test_an_issue_fills_the_patrons_waiting_hold_found_by_the_standings_count(world: World) -> None:
    """By barcode, unseen: the hold is WAITING (no copy set aside), so only the activation's count finds it."""
    book, (first,) = world.catalog.add_book()
    await world.issue(IssueLoan("users/p3", barcode=world.catalog.barcode(first), actor=DESK))
    hold = await world.place_hold(PlaceHold("users/p4", book, actor=DESK))
    second = f"{book}/copies/{uuid.uuid4()}"  # a new copy, not trapped for the hold yet
    world.catalog.copies[second] = CopyInfo(second, book, "NEW-2", "BOOK", "AVAILABLE", version=1)
    loan = await world.issue(IssueLoan("users/p4", barcode="NEW-2", actor=DESK))
    async with world.uow().reading() as uow:
        filled = await uow.holds.get(hold.id)
    assert (filled.status, filled.loan) == (HoldStatus.FULFILLED, loan.name)
