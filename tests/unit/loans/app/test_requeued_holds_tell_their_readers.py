"""Every path by which a hold with a copy set aside (READY on the hold shelf, or IN_TRANSIT) goes back to WAITING
without its reader's doing records one event its reader is told of (notifications' kind hold_requeued): the copy
taken out of circulation or missing (HoldCopyMissing, with the status before), the reader passed over at the
desk or by the reconciler (HoldPassedOver). A retry records nothing more."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from services.loans.app.holding import PlaceHold
from services.loans.app.missing import ReportHoldCopyMissing, report_hold_copy_missing
from services.loans.domain.hold_record import HoldStatus
from services.loans.domain.holds import Hold
from services.loans.domain.patrons import PatronRecord
from services.support.runtime.errors import FailedPrecondition

from ..desk import DESK, Desk
from ..fakes import FakeLoansDatabase


async def _report(desk: Desk, hold: Hold, status: str, request_id: uuid.UUID | None = None) -> Hold:
    command = ReportHoldCopyMissing(hold.id, hold.copy, request_id, DESK, copy_status=status)
    return await report_hold_copy_missing(
        command, uow=desk.uow(), clock=desk.clock, catalog=desk.catalog, zone=desk.policy.time_zone
    )


def _requeued(db: FakeLoansDatabase) -> list[Any]:
    """The events of holds sent back to the queue (by name: HoldPassedOver is new with this fix)."""
    return [event for event in db.events if type(event).__name__ in ("HoldCopyMissing", "HoldPassedOver")]


@pytest.mark.parametrize("status", ["DAMAGED", "WITHDRAWN", "LOST"])
async def test_a_ready_hold_whose_copy_is_taken_out_of_circulation_tells_its_reader_once(
    db: FakeLoansDatabase, desk: Desk, status: str
) -> None:
    book, (copy,) = desk.catalog.add_book()
    await desk.place_hold(PlaceHold("users/p1", book, pickup_branch="MAIN", actor=DESK))
    ready = await desk.receive(copy, branch="MAIN")
    request_id = uuid.uuid4()
    await _report(desk, ready, status, request_id)
    await _report(desk, ready, status, request_id)  # the web's retry: the same request
    with pytest.raises(FailedPrecondition):
        await _report(desk, ready, status)  # a second click, a new request: the copy is not the hold's any more
    (told,) = _requeued(db)
    assert type(told).__name__ == "HoldCopyMissing" and told.hold.patron == "users/p1"
    assert (told.previous_status, told.copy, told.copy_status) == (HoldStatus.READY, copy, status)


async def test_an_in_transit_hold_whose_copy_is_missing_from_its_shelf_tells_its_reader(
    db: FakeLoansDatabase, desk: Desk
) -> None:
    book, (copy,) = desk.catalog.add_book()
    hold = await desk.place_hold(PlaceHold("users/p1", book, pickup_branch="MAIN", actor=DESK))
    assert hold.status == HoldStatus.IN_TRANSIT
    await _report(desk, hold, "LOST")
    (told,) = _requeued(db)
    assert type(told).__name__ == "HoldCopyMissing"
    assert (told.previous_status, told.copy) == (HoldStatus.IN_TRANSIT, copy)


async def test_a_hold_passed_over_at_the_desk_tells_its_reader_once(db: FakeLoansDatabase, desk: Desk) -> None:
    book, (copy,) = desk.catalog.add_book()
    barred = await desk.place_hold(PlaceHold("users/p3", book, actor=DESK))
    await desk.place_hold(PlaceHold("users/p4", book, actor=DESK))
    db.patrons["users/p3"] = PatronRecord("users/p3", 2, "BLOCKED")
    await desk.receive(copy)  # READY for p4
    await desk.reconcile()  # nothing left to pass over
    (told,) = _requeued(db)
    assert type(told).__name__ == "HoldPassedOver" and told.hold.id == barred.id
    assert (told.previous_status, told.copy, told.hold.status) == (HoldStatus.IN_TRANSIT, copy, HoldStatus.WAITING)


async def test_a_hold_the_reconciler_passes_over_tells_its_reader_once(db: FakeLoansDatabase, desk: Desk) -> None:
    book, (copy,) = desk.catalog.add_book()
    barred = await desk.place_hold(PlaceHold("users/p3", book, actor=DESK))
    await desk.catalog.shelve(copy=copy, hold=barred.name)  # the receipt stopped after the catalog's step
    db.patrons["users/p3"] = PatronRecord("users/p3", 2, "EXPIRED")
    await desk.reconcile()
    await desk.reconcile()  # the next pass finds nothing to repair
    (told,) = _requeued(db)
    assert type(told).__name__ == "HoldPassedOver" and (told.hold.id, told.copy) == (barred.id, copy)


async def test_a_waiting_hold_whose_reader_may_not_borrow_records_nothing(db: FakeLoansDatabase, desk: Desk) -> None:
    book, (copy,) = desk.catalog.add_book()
    await desk.place_hold(PlaceHold("users/p1", book, actor=DESK))
    await desk.place_hold(PlaceHold("users/p2", book, actor=DESK))  # WAITING behind p1: no copy, nothing to lose
    db.patrons["users/p2"] = PatronRecord("users/p2", 2, "BLOCKED")
    await desk.receive(copy)
    assert _requeued(db) == []
