"""A hold step tells the catalog first and loans second; one cut by a crash between the two is finished by the
reconciler: a reportCopyMissing (finding C1) and a passed-over receipt (finding C4). One copy never serves two
active holds here."""

from __future__ import annotations

import pytest

from services.loans.app.holding import GetHold, PlaceHold, get_hold
from services.loans.domain.hold_events import HoldCopyMissing
from services.loans.domain.hold_record import HoldStatus
from services.loans.domain.holds import Hold
from services.loans.domain.patrons import PatronRecord

from ..desk import DESK, Desk
from ..fakes import FakeLoansDatabase


def _block(db: FakeLoansDatabase, patron: str) -> None:
    db.patrons[patron] = PatronRecord(patron, 2, "BLOCKED")  # as the users feed keeps it


async def _now(desk: Desk, hold: Hold) -> Hold:
    return await get_hold(GetHold(hold.id, actor=DESK), uow=desk.uow())


def _holding(db: FakeLoansDatabase, copy: str) -> list[str]:
    return [hold.patron for hold in db.holds.values() if hold.set_aside and hold.copy == copy]


@pytest.mark.parametrize("status", ["LOST", "DAMAGED", "WITHDRAWN"])
async def test_a_missing_report_cut_after_the_catalog_step_requeues_the_hold_and_serves_it_another_copy(
    db: FakeLoansDatabase, desk: Desk, status: str
) -> None:
    book, copies = desk.catalog.add_book(copies=2)
    hold = await desk.place_hold(PlaceHold("users/p1", book, pickup_branch="MAIN", actor=DESK))
    (other,) = [copy for copy in copies if copy != hold.copy]
    await desk.catalog.report_missing(copy=hold.copy, hold=hold.name, status=status)  # then loans crashed
    report = await desk.reconcile()
    now = await _now(desk, hold)
    assert (now.status, now.copy) == (HoldStatus.IN_TRANSIT, other)
    assert desk.catalog.copies[other].current_hold == hold.name
    (missing,) = [event for event in db.events if isinstance(event, HoldCopyMissing)]  # audited, reader told
    assert (missing.copy, missing.copy_status, missing.previous_status) == (hold.copy, status, HoldStatus.IN_TRANSIT)
    assert any(hold.name in line for line in report.discrepancies)
    assert (await desk.reconcile()).discrepancies == []  # repaired once, nothing more to say


async def test_a_ready_hold_whose_copy_was_reported_missing_waits_at_its_place_when_no_other_copy_is_free(
    db: FakeLoansDatabase, desk: Desk
) -> None:
    book, (copy,) = desk.catalog.add_book()
    await desk.place_hold(PlaceHold("users/p1", book, pickup_branch="MAIN", actor=DESK))
    ready = await desk.receive(copy, branch="MAIN")
    await desk.place_hold(PlaceHold("users/p2", book, pickup_branch="MAIN", actor=DESK))
    await desk.catalog.report_missing(copy=copy, hold=ready.name)  # then loans crashed
    await desk.reconcile()
    now = await _now(desk, ready)
    assert (now.status, now.copy, now.queue_position, now.expire_at) == (HoldStatus.WAITING, "", 1, None)
    (missing,) = [event for event in db.events if isinstance(event, HoldCopyMissing)]
    assert missing.previous_status == HoldStatus.READY


async def test_a_pass_over_cut_after_the_catalog_released_the_copy_is_finished(
    db: FakeLoansDatabase, desk: Desk
) -> None:
    book, (copy,) = desk.catalog.add_book()
    barred = await desk.place_hold(PlaceHold("users/p3", book, pickup_branch="EAST", actor=DESK))
    next_in_line = await desk.place_hold(PlaceHold("users/p4", book, pickup_branch="EAST", actor=DESK))
    _block(db, "users/p3")
    await desk.catalog.release(copy=copy, hold=barred.name)  # the pass-over's catalog step; then loans crashed
    await desk.reconcile()
    assert _holding(db, copy) == ["users/p4"]  # never two holds on one copy
    now = await _now(desk, barred)
    assert (now.status, now.copy, now.queue_position) == (HoldStatus.WAITING, "", 1)
    assert (await _now(desk, next_in_line)).copy == copy
    assert desk.catalog.copies[copy].current_hold == next_in_line.name
    assert db.event_types().count("HoldPassedOver") == 1


async def test_a_pass_over_cut_after_the_catalog_gave_the_copy_to_the_next_hold_is_finished(
    db: FakeLoansDatabase, desk: Desk
) -> None:
    book, (copy,) = desk.catalog.add_book()
    barred = await desk.place_hold(PlaceHold("users/p3", book, pickup_branch="EAST", actor=DESK))
    next_in_line = await desk.place_hold(PlaceHold("users/p4", book, pickup_branch="EAST", actor=DESK))
    _block(db, "users/p3")
    await desk.catalog.release(copy=copy, hold=barred.name)
    await desk.catalog.reserve(book=book, hold=next_in_line.name, branch="EAST")  # the queue served; then a crash
    report = await desk.reconcile()
    assert _holding(db, copy) == ["users/p4"]
    assert (await _now(desk, next_in_line)).status == HoldStatus.IN_TRANSIT
    now = await _now(desk, barred)
    assert (now.status, now.queue_position) == (HoldStatus.WAITING, 1)
    assert any(barred.name in line and "requeued" in line for line in report.discrepancies)
    assert db.event_types().count("HoldPassedOver") == 1


async def test_two_holds_naming_one_copy_are_repaired_to_the_one_the_catalog_names(
    db: FakeLoansDatabase, desk: Desk
) -> None:
    book, (copy,) = desk.catalog.add_book()
    first = await desk.place_hold(PlaceHold("users/p3", book, pickup_branch="EAST", actor=DESK))
    second = await desk.place_hold(PlaceHold("users/p4", book, pickup_branch="EAST", actor=DESK))
    stored = db.holds[second.id]  # as kept before the unique index: both IN_TRANSIT with the copy
    stored.status, stored.copy = HoldStatus.IN_TRANSIT, copy
    await desk.catalog.release(copy=copy, hold=first.name)
    await desk.catalog.reserve(book=book, hold=second.name, branch="EAST")
    await desk.reconcile()
    assert _holding(db, copy) == ["users/p4"]
    now = await _now(desk, first)
    assert (now.status, now.copy, now.queue_position) == (HoldStatus.WAITING, "", 1)
    assert "HoldPassedOver" not in db.event_types()  # its patron may borrow: it waits for the next copy, untold
