"""ReportHoldCopyMissing takes turns with a cancel of the same hold, in Postgres (finding C6): the hold's row is
locked from the report's check to its commit, so a cancel that comes while the catalog is told waits and loses."""

from __future__ import annotations

import asyncio

import pytest
from loans_world import DESK, World

from services.loans.app.holding import CancelHold, PlaceHold
from services.loans.app.missing import ReportHoldCopyMissing, report_hold_copy_missing
from services.loans.domain.hold_record import HoldStatus
from services.support.runtime.conflicts import CONCURRENT_UPDATE
from services.support.runtime.errors import Conflict

pytestmark = pytest.mark.integration


async def test_a_cancel_while_the_catalog_is_told_of_a_missing_copy_waits_and_loses(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    book, (copy,) = world.catalog.add_book()
    hold = await world.place_hold(PlaceHold("users/p3", book, pickup_branch="EAST", actor=DESK))
    told = world.catalog.report_missing
    cancels: list[asyncio.Task[object]] = []

    async def told_while_cancelled(**step: str) -> object:
        answer = await told(**step)
        cancels.append(asyncio.create_task(world.cancel_hold(CancelHold(hold.id, actor=DESK))))
        await asyncio.sleep(0.5)  # the other desk's cancel: old, committed by now; now, waiting on the row
        return answer

    monkeypatch.setattr(world.catalog, "report_missing", told_while_cancelled)
    command = ReportHoldCopyMissing(hold.id, copy, actor=DESK)
    answer = await report_hold_copy_missing(
        command, uow=world.uow(), clock=world.clock, catalog=world.catalog, zone=world.policy.time_zone
    )
    assert (answer.status, answer.copy) == (HoldStatus.WAITING, "")
    with pytest.raises(Conflict) as lost:
        await cancels[0]
    assert lost.value.reason == CONCURRENT_UPDATE
    assert "hold_copy_missing" in await world.subjects()
    async with world.uow().reading() as uow:
        assert (await uow.holds.get(hold.id)).status == HoldStatus.WAITING
