"""A READY hold cancelled, its copy passed on to the next hold: the catalog sets the copy aside for that hold, then
loans dies before recording it. The reconciler finishes it as the cancel would have: the copy is to be taken off
the hold shelf it sits on, not pulled from the open shelf (finding C2)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from services.loans.api.convert import hold_to_proto
from services.loans.app import shelf
from services.loans.app.holding import CancelHold, PlaceHold
from services.loans.domain.hold_events import HoldInTransit
from services.loans.domain.hold_record import HoldStatus
from services.loans.domain.holds import Hold

from ..desk import DESK, Crash, Desk
from ..fakes import FakeLoansDatabase


def _crash_before_loans_records_the_pass_on(monkeypatch: pytest.MonkeyPatch) -> None:
    async def crash(*_: object, **__: object) -> Hold:
        raise Crash

    monkeypatch.setattr(shelf, "shelved", crash)


async def _ready_hold_cancelled_by_a_crashing_desk(
    desk: Desk, monkeypatch: pytest.MonkeyPatch, *, spare: bool
) -> tuple[str, Hold]:
    """EAST's hold shelf has copy (of MAIN) for a READY hold, the next hold (WEST) waits; the cancel passes the
    copy on and loans dies between the catalog's step and its own. `spare`: another copy of the book (DAMAGED
    meanwhile, AVAILABLE again after the crash)."""
    book, (copy, *others) = desk.catalog.add_book(copies=2 if spare else 1)
    desk.catalog.copies[copy] = replace(desk.catalog.copies[copy], branch="MAIN")
    first = await desk.place_hold(PlaceHold("users/p1", book, pickup_branch="EAST", actor=DESK))
    await desk.receive(copy, branch="EAST")
    for other in others:
        desk.catalog.copies[other] = replace(desk.catalog.copies[other], status="DAMAGED")
    second = await desk.place_hold(PlaceHold("users/p2", book, pickup_branch="WEST", actor=DESK))
    with monkeypatch.context() as patch, pytest.raises(Crash):  # then the process restarts
        _crash_before_loans_records_the_pass_on(patch)
        await desk.cancel_hold(CancelHold(first.id, actor=DESK))
    assert desk.catalog.copies[copy].current_hold == second.name  # the catalog's step is done, not loans'
    for other in others:
        desk.catalog.copies[other] = replace(desk.catalog.copies[other], status="AVAILABLE")
    return copy, second


@pytest.mark.parametrize("spare", [False, True], ids=["by-the-comparison", "by-serving-the-queue"])
async def test_a_pass_on_cut_by_a_crash_is_finished_to_pull_from_the_hold_shelf(
    db: FakeLoansDatabase, desk: Desk, monkeypatch: pytest.MonkeyPatch, spare: bool
) -> None:
    copy, second = await _ready_hold_cancelled_by_a_crashing_desk(desk, monkeypatch, spare=spare)
    await desk.reconcile()
    passed = db.holds[second.id]
    assert (passed.status, passed.copy, passed.to_pull) == (HoldStatus.IN_TRANSIT, copy, True)
    assert passed.hold_shelf_branch == "EAST" and hold_to_proto(passed).hold_shelf_branch == "EAST"
    *_, sent = [event for event in db.events if isinstance(event, HoldInTransit)]
    assert (sent.hold.name, sent.from_branch, sent.to_branch) == (second.name, "EAST", "WEST")


async def test_a_copy_set_aside_long_after_an_ended_hold_let_it_go_is_pulled_from_the_open_shelf(
    db: FakeLoansDatabase, desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Set aside later than the saga's time after the release, it went back to the open shelf meanwhile."""
    copy, second = await _ready_hold_cancelled_by_a_crashing_desk(desk, monkeypatch, spare=False)
    later = desk.clock.now() + desk.reconcile_policy.saga_timeout + timedelta(minutes=1)
    desk.catalog.copies[copy] = replace(desk.catalog.copies[copy], changed_at=later)
    await desk.reconcile()
    passed = db.holds[second.id]
    assert (passed.status, passed.to_pull, passed.hold_shelf_branch) == (HoldStatus.IN_TRANSIT, True, "")
