"""One copy is set aside for one active hold at most, in Postgres (finding C4): the unique index refuses a second
hold with it (a pass-over cut by a crash left two holds IN_TRANSIT with one copy), the reconciler finishes the
cut pass-over, and migration 0018 repairs two such holds kept from before it."""

from __future__ import annotations

import asyncio
import uuid

import pytest
import sqlalchemy as sa
from alembic import command
from loans_world import DESK, START, World
from sqlalchemy.ext.asyncio import create_async_engine

from services.loans.app.holding import PlaceHold
from services.loans.data.tables import holds
from services.loans.domain.hold_record import HoldStatus
from services.loans.domain.patrons import PatronRecord
from services.support.runtime.conflicts import CONCURRENT_UPDATE
from services.support.runtime.errors import Conflict
from services.support.runtime.migrations import alembic_config, upgrade_to_head

pytestmark = pytest.mark.integration


async def test_a_second_hold_is_refused_the_copy_another_active_hold_has(world: World) -> None:
    book, (copy,) = world.catalog.add_book()
    first = await world.place_hold(PlaceHold("users/p3", book, pickup_branch="EAST", actor=DESK))
    second = await world.place_hold(PlaceHold("users/p4", book, pickup_branch="EAST", actor=DESK))
    assert (first.status, first.copy, second.status) == (HoldStatus.IN_TRANSIT, copy, HoldStatus.WAITING)
    with pytest.raises(Conflict) as refused:
        async with world.uow() as uow:
            later = await uow.holds.get(second.id)
            later.send(copy, now=world.clock.now())
            await uow.holds.save(later)
            await uow.commit()
    assert refused.value.reason == CONCURRENT_UPDATE  # retried by the step: the other hold's release is under way
    async with world.uow().reading() as uow:
        assert (await uow.holds.get(second.id)).status == HoldStatus.WAITING
        assert await uow.holds.sharing_copies() == []


async def test_a_pass_over_cut_after_the_catalog_released_the_copy_is_finished_by_the_reconciler(
    world: World,
) -> None:
    book, (copy,) = world.catalog.add_book()
    barred = await world.place_hold(PlaceHold("users/p3", book, pickup_branch="EAST", actor=DESK))
    next_in_line = await world.place_hold(PlaceHold("users/p4", book, pickup_branch="EAST", actor=DESK))
    async with world.uow() as uow:  # the users feed: p3 blocked
        await uow.patrons.keep_newer(PatronRecord("users/p3", 2, "BLOCKED"))
        await uow.commit()
    await world.catalog.release(copy=copy, hold=barred.name)  # the pass-over's catalog step; then loans crashed
    await world.reconcile()
    async with world.uow().reading() as uow:
        passed, served = await uow.holds.get(barred.id), await uow.holds.get(next_in_line.id)
    assert (passed.status, passed.copy, passed.queue_position) == (HoldStatus.WAITING, "", 1)
    assert (served.status, served.copy, world.catalog.copies[copy].current_hold) == (
        HoldStatus.IN_TRANSIT,
        copy,
        next_in_line.name,
    )


def _hold_row(patron: str, copy: str, *, minutes: int) -> dict[str, object]:
    at = START.replace(minute=minutes)
    return {
        "id": uuid.uuid4(),
        "patron": patron,
        "book": "books/b1",
        "status": "IN_TRANSIT",
        "pickup_days": 7,
        "copy": copy,
        "shelf_released": False,
        "to_pull": True,
        "created_at": at,
        "updated_at": at,
        "version": 1,
    }


async def test_the_migration_keeps_the_copy_on_the_hold_that_took_it_last_and_requeues_the_other(postgres) -> None:
    url = postgres.fresh_database("loans")
    await asyncio.to_thread(command.upgrade, alembic_config("loans", url), "0017")
    older, newer = (
        _hold_row("users/p3", "books/b1/copies/c1", minutes=1),
        _hold_row("users/p4", "books/b1/copies/c1", minutes=5),
    )
    engine = create_async_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.execute(holds.insert(), [older, newer])
        await asyncio.to_thread(upgrade_to_head, "loans", url)
        async with engine.connect() as connection:
            rows = (await connection.execute(sa.select(holds.c.patron, holds.c.status, holds.c.copy))).all()
    finally:
        await engine.dispose()
    assert sorted(map(tuple, rows)) == [("users/p3", "WAITING", ""), ("users/p4", "IN_TRANSIT", "books/b1/copies/c1")]
