"""The pull list's "missing": a copy set aside for a hold that staff cannot find is LOST in the catalog, and the
hold is served another copy, or waits."""

from __future__ import annotations

import uuid

import pytest

from services.loans.app.holding import CancelHold, PlaceHold
from services.loans.app.missing import ReportHoldCopyMissing, report_hold_copy_missing
from services.loans.domain.actors import Actor
from services.loans.domain.hold_events import HoldCopyMissing
from services.loans.domain.hold_record import HoldStatus
from services.loans.domain.holds import Hold
from services.support.runtime.errors import Conflict, FailedPrecondition, PermissionDenied

from ..desk import DESK, Desk, reader
from ..fakes import FakeLoansDatabase


async def _report(
    desk: Desk,
    hold: Hold,
    *,
    copy: str = "",
    request_id: uuid.UUID | None = None,
    actor: Actor = DESK,
    etag: str = "",
) -> Hold:
    command = ReportHoldCopyMissing(hold.id, copy, request_id, actor, etag=etag)
    return await report_hold_copy_missing(
        command, uow=desk.uow(), clock=desk.clock, catalog=desk.catalog, zone=desk.policy.time_zone
    )


async def test_a_missing_copy_is_lost_and_the_hold_gets_another_copy_on_the_shelf_at_once(
    db: FakeLoansDatabase, desk: Desk
) -> None:
    book, copies = desk.catalog.add_book(copies=2)
    hold = await desk.place_hold(PlaceHold("users/p1", book, pickup_branch="MAIN", actor=DESK))
    (other,) = [copy for copy in copies if copy != hold.copy]
    answer = await _report(desk, hold, copy=hold.copy)
    assert (answer.status, answer.copy, answer.to_pull) == (HoldStatus.IN_TRANSIT, other, True)
    assert (desk.catalog.status(hold.copy), desk.catalog.copies[hold.copy].current_hold) == ("LOST", "")
    assert (desk.catalog.status(other), desk.catalog.copies[other].current_hold) == ("IN_TRANSIT", hold.name)
    assert db.holds[hold.id].copy == other and "HoldReady" not in db.event_types()
    (reported,) = [event for event in db.events if isinstance(event, HoldCopyMissing)]
    assert (reported.copy, reported.reported_by) == (hold.copy, DESK.user)


async def test_a_missing_only_copy_leaves_the_hold_waiting_first_in_the_queue(
    db: FakeLoansDatabase, desk: Desk
) -> None:
    book, (copy,) = desk.catalog.add_book()
    hold = await desk.place_hold(PlaceHold("users/p1", book, actor=DESK))
    await desk.place_hold(PlaceHold("users/p2", book, actor=DESK))
    answer = await _report(desk, hold)
    assert (answer.status, answer.copy, answer.to_pull) == (HoldStatus.WAITING, "", False)
    assert desk.catalog.status(copy) == "LOST" and not db.holds[hold.id].copy_left_on_shelf
    async with desk.uow() as uow:
        (first, second) = await uow.holds.waiting(book, limit=10)
    assert first.id == hold.id and second.patron == "users/p2"


async def test_a_retry_is_answered_from_the_ledger_and_a_second_report_is_refused(
    db: FakeLoansDatabase, desk: Desk
) -> None:
    book, _ = desk.catalog.add_book()
    hold = await desk.place_hold(PlaceHold("users/p1", book, actor=DESK))
    request_id = uuid.uuid4()
    first = await _report(desk, hold, request_id=request_id)
    desk.catalog.down = True  # the retry is answered from the ledger, the catalog not asked
    again = await _report(desk, hold, request_id=request_id)
    assert first.id == again.id and again.status == HoldStatus.WAITING
    assert [type(event).__name__ for event in db.events].count("HoldCopyMissing") == 1
    desk.catalog.down = False
    with pytest.raises(FailedPrecondition) as refused:  # a second click without the id: nothing is on its way
        await _report(desk, hold)
    assert refused.value.reason == "HOLD_NOT_IN_TRANSIT"


async def test_a_report_is_refused_to_a_reader_and_for_a_copy_the_hold_no_longer_has(
    desk: Desk,
) -> None:
    book, copies = desk.catalog.add_book(copies=2)
    hold = await desk.place_hold(PlaceHold("users/p1", book, actor=DESK))
    with pytest.raises(PermissionDenied):
        await _report(desk, hold, actor=reader("users/p1"))
    (other,) = [copy for copy in copies if copy != hold.copy]
    with pytest.raises(FailedPrecondition) as stale:
        await _report(desk, hold, copy=other)
    assert stale.value.reason == "HOLD_NOT_IN_TRANSIT" and desk.catalog.status(hold.copy) == "IN_TRANSIT"


async def test_a_stale_pull_list_row_cannot_make_lost_a_copy_another_desk_found_and_sent_on(
    db: FakeLoansDatabase, desk: Desk
) -> None:
    """Finding D15: two librarians on one pull list; one finds the copy and sends it to EAST, the other's page,
    not reloaded, says "Missing". The row's etag is stale: refused (ABORTED), the copy still on its way."""
    book, (copy,) = desk.catalog.add_book()
    row = await desk.place_hold(PlaceHold("users/p1", book, pickup_branch="EAST", actor=DESK))
    sent = await desk.receive(copy, branch="MAIN")
    assert (sent.status, sent.to_pull) == (HoldStatus.IN_TRANSIT, False)
    with pytest.raises(Conflict) as stale:
        await _report(desk, row, copy=row.copy, etag=row.etag)
    assert stale.value.reason == "STALE_ETAG"
    assert desk.catalog.status(copy) == "IN_TRANSIT" and db.holds[row.id].status == HoldStatus.IN_TRANSIT
    answer = await _report(desk, sent, copy=sent.copy, etag=sent.etag)  # read again: still missing, reported
    assert answer.status == HoldStatus.WAITING and desk.catalog.status(copy) == "LOST"


async def test_a_cancel_racing_the_report_loses_and_the_report_is_recorded(
    db: FakeLoansDatabase, desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Finding C6: another desk cancels the hold while the catalog is told. The report held the hold's row from
    its check, so the cancel loses its race (repeated by the runtime) and the report is answered and audited; the old
    report answered the CANCELLED hold, the copy LOST, with no record."""
    book, (copy,) = desk.catalog.add_book()
    hold = await desk.place_hold(PlaceHold("users/p1", book, actor=DESK))
    told = desk.catalog.report_missing
    raced: list[BaseException] = []

    async def told_then_cancelled(**step: str) -> object:
        answer = await told(**step)
        try:  # the other desk's cancel, committed (old) or waiting on the row (new) before loans records the report
            await desk.cancel_hold(CancelHold(hold.id, actor=DESK))
        except Conflict as lost:
            raced.append(lost)
        return answer

    monkeypatch.setattr(desk.catalog, "report_missing", told_then_cancelled)
    answer = await _report(desk, hold, copy=copy)
    assert (answer.status, answer.copy) == (HoldStatus.WAITING, "")
    assert desk.catalog.status(copy) == "LOST" and len(raced) == 1
    (reported,) = [event for event in db.events if isinstance(event, HoldCopyMissing)]
    assert (reported.copy, reported.reported_by) == (copy, DESK.user)
    retried = await desk.cancel_hold(CancelHold(hold.id, actor=DESK))  # the runtime's repeat of the cancel
    assert retried.status == HoldStatus.CANCELLED and desk.catalog.status(copy) == "LOST"
