"""A hold whose patron may not borrow now (blocked, expired, closed by the projection of accounts) is not made
READY when its copy in transit is received, nor by the reconciler: the copy goes to the next in the queue who
may have it, or back on the shelf; the hold keeps its place and is served again once the account may borrow
(finding B4)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from services.loans.app.holding import GetHold, PlaceHold, get_hold
from services.loans.app.receiving import HOLD_PATRON_MAY_NOT_BORROW
from services.loans.domain.hold_record import HoldStatus
from services.loans.domain.patrons import PatronRecord
from services.support.runtime.errors import FailedPrecondition

from ..desk import DESK, Desk
from ..fakes import FakeLoansDatabase


def block(db: FakeLoansDatabase, patron: str, status: str = "BLOCKED", version: int = 2) -> None:
    db.patrons[patron] = PatronRecord(patron, version, status)  # as the users feed keeps it


@pytest.mark.parametrize("status", ["BLOCKED", "EXPIRED"])
async def test_a_copy_received_for_a_patron_who_may_not_borrow_goes_to_the_next_in_the_queue(
    db: FakeLoansDatabase, desk: Desk, status: str
) -> None:
    book, (copy,) = desk.catalog.add_book()
    barred = await desk.place_hold(PlaceHold("users/p3", book, actor=DESK))
    assert barred.status == HoldStatus.IN_TRANSIT and barred.copy == copy
    next_in_line = await desk.place_hold(PlaceHold("users/p4", book, actor=DESK))
    block(db, "users/p3", status)
    received = await desk.receive(copy)
    assert (received.id, received.status, received.copy) == (next_in_line.id, HoldStatus.READY, copy)
    assert desk.catalog.copies[copy].current_hold == next_in_line.name
    kept = await get_hold(GetHold(barred.id, actor=DESK), uow=desk.uow())
    assert (kept.status, kept.copy, kept.queue_position) == (HoldStatus.WAITING, "", 1)
    ready = [event.hold.patron for event in db.events if type(event).__name__ == "HoldReady"]  # type: ignore[attr-defined]
    assert ready == ["users/p4"]  # the patron who may not borrow is not told "waiting for you"


async def test_a_copy_received_for_a_blocked_patron_with_nobody_else_waiting_goes_back_on_the_shelf(
    db: FakeLoansDatabase, desk: Desk
) -> None:
    book, (copy,) = desk.catalog.add_book()
    barred = await desk.place_hold(PlaceHold("users/p3", book, pickup_branch="EAST", actor=DESK))
    block(db, "users/p3")
    with pytest.raises(FailedPrecondition) as refused:
        await desk.receive(copy, branch="EAST")
    assert refused.value.reason == HOLD_PATRON_MAY_NOT_BORROW
    assert (desk.catalog.status(copy), desk.catalog.copies[copy].current_hold) == ("AVAILABLE", "")
    assert (db.holds[barred.id].status, db.holds[barred.id].copy) == (HoldStatus.WAITING, "")
    assert "HoldReady" not in db.event_types()
    block(db, "users/p3", "ACTIVE", version=3)  # unblocked: served again by the next pass over the queues
    await desk.reconcile()
    assert (db.holds[barred.id].status, db.holds[barred.id].copy) == (HoldStatus.IN_TRANSIT, copy)


async def test_a_copy_pulled_for_a_blocked_patron_is_not_sent_on_to_the_pickup_branch(
    db: FakeLoansDatabase, desk: Desk
) -> None:
    book, (copy,) = desk.catalog.add_book()
    barred = await desk.place_hold(PlaceHold("users/p3", book, pickup_branch="EAST", actor=DESK))
    block(db, "users/p3")
    with pytest.raises(FailedPrecondition) as refused:
        await desk.receive(copy, branch="MAIN")
    assert refused.value.reason == HOLD_PATRON_MAY_NOT_BORROW
    assert refused.value.metadata["home"] == ""  # back on the open shelf here: the web says so
    assert db.holds[barred.id].status == HoldStatus.WAITING and desk.catalog.status(copy) == "AVAILABLE"


async def test_the_reconciler_does_not_make_ready_a_blocked_patron_s_hold_whose_copy_the_catalog_shelved(
    db: FakeLoansDatabase, desk: Desk
) -> None:
    book, (copy,) = desk.catalog.add_book()
    barred = await desk.place_hold(PlaceHold("users/p3", book, actor=DESK))
    next_in_line = await desk.place_hold(PlaceHold("users/p4", book, actor=DESK))
    await desk.catalog.shelve(copy=copy, hold=barred.name)  # the receipt stopped after the catalog's step
    block(db, "users/p3")
    await desk.reconcile()
    assert (db.holds[barred.id].status, db.holds[barred.id].copy) == (HoldStatus.WAITING, "")
    assert (db.holds[next_in_line.id].status, db.holds[next_in_line.id].copy) == (HoldStatus.IN_TRANSIT, copy)
    assert "HoldReady" not in db.event_types()


async def test_a_copy_received_at_another_branch_for_a_blocked_patron_is_sent_home_from_that_desk(
    db: FakeLoansDatabase, desk: Desk
) -> None:
    book, (copy,) = desk.catalog.add_book()
    desk.catalog.copies[copy] = replace(desk.catalog.copies[copy], branch="MAIN")
    barred = await desk.place_hold(PlaceHold("users/p3", book, pickup_branch="EAST", actor=DESK))
    await desk.receive(copy, branch="MAIN")  # pulled at MAIN, in the van to EAST
    block(db, "users/p3")
    with pytest.raises(FailedPrecondition) as refused:
        await desk.receive(copy, branch="EAST")
    assert refused.value.reason == HOLD_PATRON_MAY_NOT_BORROW and "sent home to MAIN" in refused.value.message
    assert refused.value.metadata["home"] == "MAIN"  # the web names where to send it
    assert (desk.catalog.status(copy), desk.catalog.sent_home) == ("IN_TRANSIT", {copy: "EAST"})  # not on MAIN's shelf
    assert db.holds[barred.id].status == HoldStatus.WAITING


async def test_a_copy_received_for_a_blocked_patron_goes_to_a_hold_picked_up_at_that_desk(
    db: FakeLoansDatabase, desk: Desk
) -> None:
    book, (copy,) = desk.catalog.add_book()
    desk.catalog.copies[copy] = replace(desk.catalog.copies[copy], branch="MAIN")
    await desk.place_hold(PlaceHold("users/p3", book, pickup_branch="EAST", actor=DESK))
    await desk.receive(copy, branch="MAIN")
    later = await desk.place_hold(PlaceHold("users/p4", book, pickup_branch="EAST", actor=DESK))
    block(db, "users/p3")
    received = await desk.receive(copy, branch="EAST")  # on EAST's hold shelf for p4, not pulled at MAIN
    assert (received.id, received.status, received.copy) == (later.id, HoldStatus.READY, copy)
