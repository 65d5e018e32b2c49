"""Holds of patrons who may not borrow, against real Postgres: a copy back or freed passes them over (they
keep their place), and closing an account cancels its holds."""

from __future__ import annotations

from dataclasses import replace

import pytest
from loans_world import DESK, World

from services.loans.app.holding import PlaceHold
from services.loans.app.issuing import IssueLoan
from services.loans.app.patrons import keep_account
from services.loans.app.returning import ReturnLoan
from services.loans.domain.hold_record import HoldStatus
from services.loans.domain.holds import ACCOUNT_CLOSED, Hold
from services.loans.domain.patrons import PatronRecord

pytestmark = pytest.mark.integration


async def statuses(world: World, *holds: Hold) -> list[tuple[HoldStatus, str, int]]:
    """Each hold's status, its copy on the shelf (READY) or why it was cancelled, and its place in the queue."""
    async with world.uow().reading() as uow:
        found = [await uow.holds.get(hold.id) for hold in holds]
    return [(h.status, h.cancel_reason or (h.copy if h.is_active else ""), h.queue_position) for h in found]


async def keep(world: World, record: PatronRecord) -> None:
    assert await keep_account(record, uow=world.new_uow(), clock=world.clock)


async def test_a_returned_copy_passes_over_a_blocked_patron(world: World) -> None:
    book, (copy,) = world.catalog.add_book()
    lent = await world.issue(IssueLoan("users/p1", book=book, actor=DESK))
    blocked = await world.place_hold(PlaceHold("users/p2", book, actor=DESK))
    served = await world.place_hold(PlaceHold("users/p3", book, actor=DESK))
    await keep(world, PatronRecord("users/p2", 2, "BLOCKED"))
    await keep(world, PatronRecord("users/p3", 2, "ACTIVE"))
    await world.return_loan(ReturnLoan(loan_id=lent.id, actor=DESK))
    assert await statuses(world, blocked, served) == [(HoldStatus.WAITING, "", 1), (HoldStatus.READY, copy, 0)]


async def test_a_freed_copy_passes_over_an_expired_membership(world: World) -> None:
    book, (copy,) = world.catalog.add_book()
    world.catalog.copies[copy] = replace(world.catalog.copies[copy], status="IN_REPAIR")
    expired = await world.place_hold(PlaceHold("users/p2", book, actor=DESK))
    served = await world.place_hold(PlaceHold("users/p3", book, actor=DESK))
    await keep(world, PatronRecord("users/p2", 2, "ACTIVE", expire_at=world.clock.now()))
    world.catalog.copies[copy] = replace(world.catalog.copies[copy], status="AVAILABLE")
    await world.reconcile()
    assert await statuses(world, expired, served) == [(HoldStatus.WAITING, "", 1), (HoldStatus.IN_TRANSIT, copy, 0)]


async def test_closing_an_account_cancels_its_holds(world: World) -> None:
    shelved, _ = world.catalog.add_book()
    waited, _ = world.catalog.add_book(copies=0)
    holds = [await world.place_hold(PlaceHold("users/p2", book, actor=DESK)) for book in (shelved, waited)]
    others = await world.place_hold(PlaceHold("users/p3", waited, actor=DESK))
    await keep(world, PatronRecord("users/p2", 2, "DEACTIVATED"))
    closed = (HoldStatus.CANCELLED, ACCOUNT_CLOSED, 0)
    assert await statuses(world, *holds, others) == [closed, closed, (HoldStatus.WAITING, "", 1)]


async def test_a_freed_copy_reaches_an_eligible_patron_behind_more_than_a_page_passed_over(world: World) -> None:
    book, (copy,) = world.catalog.add_book()
    world.catalog.copies[copy] = replace(world.catalog.copies[copy], status="IN_REPAIR")
    barred = [await world.place_hold(PlaceHold(f"users/b{n}", book, actor=DESK)) for n in range(25)]
    served = await world.place_hold(PlaceHold("users/p3", book, actor=DESK))
    for hold in barred:
        await keep(world, PatronRecord(hold.patron, 2, "BLOCKED"))
    world.catalog.copies[copy] = replace(world.catalog.copies[copy], status="AVAILABLE")
    await world.reconcile()
    assert await statuses(world, barred[0], barred[-1], served) == [
        (HoldStatus.WAITING, "", 1),
        (HoldStatus.WAITING, "", 25),
        (HoldStatus.IN_TRANSIT, copy, 0),
    ]
