"""Holds with fakes: the queue, the hold shelf, the rule's limits, cancelling and passing a copy on."""

from __future__ import annotations

import uuid
from dataclasses import replace
from typing import Any

import pytest

from services.loans.app.holding import CancelHold, GetHold, ListHolds, PlaceHold, get_hold, list_holds
from services.loans.app.issuing import IssueLoan
from services.loans.app.returning import ReturnLoan
from services.loans.app.shelf import serve_queue
from services.loans.domain.borrowing import CopyInfo
from services.loans.domain.hold_record import HoldStatus
from services.loans.domain.patrons import PatronRecord
from services.support.runtime.errors import (
    AlreadyExists,
    DependencyUnavailable,
    FailedPrecondition,
    InvalidArgument,
    PermissionDenied,
)

from ..desk import DESK, Desk, reader
from ..fakes import FakeLoansDatabase


async def test_a_hold_on_a_free_copy_is_in_transit_at_once_and_ready_when_received(
    db: FakeLoansDatabase, desk: Desk
) -> None:
    """The copy is on the open shelf (maybe in a reader's hands in the reading room): on the pull list, not on
    the hold shelf, until staff bring it to the pickup desk; the patron is told then."""
    book, (copy,) = desk.catalog.add_book()
    hold = await desk.place_hold(PlaceHold("users/me", book, actor=reader("users/p1")))
    assert hold.patron == "users/p1" and hold.status == HoldStatus.IN_TRANSIT and hold.copy == copy
    assert hold.pickup_branch == "MAIN" and hold.expire_at is None  # the patron's home branch
    assert (desk.catalog.status(copy), desk.catalog.copies[copy].current_hold) == ("IN_TRANSIT", hold.name)
    # no "ready" notice before anyone has the copy in hand; the audit trail has it set aside
    assert db.event_types() == ["HoldPlaced", "HoldInTransit"]
    received = await desk.receive(copy)
    assert received.status == HoldStatus.READY and received.expire_at is not None
    assert desk.catalog.status(copy) == "ON_HOLD_SHELF"
    assert db.event_types() == ["HoldPlaced", "HoldInTransit", "HoldReady", "HoldCopyReceived"]


async def test_holds_queue_in_order_and_a_retry_is_answered(db: FakeLoansDatabase, desk: Desk) -> None:
    book, _ = desk.catalog.add_book(copies=0)
    request_id = uuid.uuid4()
    first = await desk.place_hold(PlaceHold("users/p1", book, request_id=request_id, actor=DESK))
    again = await desk.place_hold(PlaceHold("users/p1", book, request_id=request_id, actor=DESK))
    second = await desk.place_hold(PlaceHold("users/p2", book, actor=DESK))
    assert again.id == first.id and len(db.holds) == 2
    assert (first.status, first.queue_position, second.queue_position) == (HoldStatus.WAITING, 1, 2)
    with pytest.raises(AlreadyExists) as twice:
        await desk.place_hold(PlaceHold("users/p1", book, actor=DESK))
    assert twice.value.reason == "HOLD_EXISTS"


async def test_a_patron_who_borrows_the_book_may_not_hold_it(desk: Desk) -> None:
    book, _ = desk.catalog.add_book(copies=2)
    await desk.issue(IssueLoan("users/p1", book=book, actor=DESK))
    with pytest.raises(AlreadyExists) as refused:
        await desk.place_hold(PlaceHold("users/p1", book, actor=DESK))
    assert refused.value.reason == "ALREADY_BORROWED"


async def test_holds_follow_the_rule_and_the_patrons_eligibility(db: FakeLoansDatabase, desk: Desk) -> None:
    db.set_default_rule(max_holds=1)
    first, _ = desk.catalog.add_book()
    second, _ = desk.catalog.add_book()
    await desk.place_hold(PlaceHold("users/p1", first, actor=DESK))
    with pytest.raises(FailedPrecondition) as limit:
        await desk.place_hold(PlaceHold("users/p1", second, actor=DESK))
    assert limit.value.reason == "HOLD_LIMIT_REACHED"
    desk.users.blocked["users/p2"] = ("blocked",)
    with pytest.raises(FailedPrecondition) as blocked:
        await desk.place_hold(PlaceHold("users/p2", second, actor=DESK))
    assert blocked.value.reason == "PATRON_NOT_ELIGIBLE"
    db.set_default_rule(holds_allowed=False)
    with pytest.raises(FailedPrecondition) as closed:
        await desk.place_hold(PlaceHold("users/p3", second, actor=DESK))
    assert closed.value.reason == "HOLDS_NOT_ALLOWED"


async def test_a_reader_holds_only_for_themselves_and_names_are_checked(desk: Desk) -> None:
    book, _ = desk.catalog.add_book()
    with pytest.raises(PermissionDenied):
        await desk.place_hold(PlaceHold("users/p2", book, actor=reader("users/p1")))
    for patron, name, field in (("p1", book, "hold.patron"), ("users/p1", "books/x", "hold.book")):
        with pytest.raises(InvalidArgument) as bad:
            await desk.place_hold(PlaceHold(patron, name, actor=DESK))
        assert bad.value.violations[0].field == field


async def test_a_hold_waits_when_the_catalog_cannot_reserve_now(db: FakeLoansDatabase, desk: Desk) -> None:
    book, (copy,) = desk.catalog.add_book()

    async def unreachable(**_: str) -> CopyInfo:
        raise DependencyUnavailable("catalog is down", reason="CATALOG_UNAVAILABLE")

    desk.catalog.reserve = unreachable  # type: ignore[method-assign]
    hold = await desk.place_hold(PlaceHold("users/p1", book, actor=DESK))
    assert hold.status == HoldStatus.WAITING and desk.catalog.status(copy) == "AVAILABLE"
    assert db.event_types() == ["HoldPlaced"]  # the reconciler offers it a copy later


async def test_cancelling_a_ready_hold_passes_its_copy_to_the_next_in_the_queue(
    db: FakeLoansDatabase, desk: Desk
) -> None:
    book, (copy,) = desk.catalog.add_book()
    ready = await desk.place_hold(PlaceHold("users/p1", book, actor=DESK))
    assert (await desk.receive(copy)).status == HoldStatus.READY
    waiting = await desk.place_hold(PlaceHold("users/p2", book, actor=DESK))
    with pytest.raises(PermissionDenied):
        await desk.cancel_hold(CancelHold(ready.id, actor=reader("users/p2")))
    cancelled = await desk.cancel_hold(CancelHold(ready.id, "changed my mind", actor=reader("users/p1")))
    assert cancelled.status == HoldStatus.CANCELLED and cancelled.cancel_reason == "changed my mind"
    assert db.holds[ready.id].shelf_released
    passed_on = await get_hold(GetHold(waiting.id, DESK), uow=desk.uow())
    assert passed_on.status == HoldStatus.IN_TRANSIT  # relabelled at the desk for the next patron: received again
    assert (desk.catalog.status(copy), desk.catalog.copies[copy].current_hold) == ("IN_TRANSIT", waiting.name)
    with pytest.raises(FailedPrecondition):
        await desk.cancel_hold(CancelHold(ready.id, actor=DESK))


async def test_cancelling_a_hold_in_transit_releases_its_copy_and_passes_it_on(
    db: FakeLoansDatabase, desk: Desk
) -> None:
    book, (copy,) = desk.catalog.add_book()
    sent = await desk.place_hold(PlaceHold("users/p1", book, actor=DESK))
    cancelled = await desk.cancel_hold(CancelHold(sent.id, actor=reader("users/p1")))
    assert cancelled.status == HoldStatus.CANCELLED and db.holds[sent.id].shelf_released
    assert (desk.catalog.status(copy), desk.catalog.copies[copy].current_hold) == ("AVAILABLE", "")
    waiting = await desk.place_hold(PlaceHold("users/p2", book, actor=DESK))
    assert waiting.status == HoldStatus.IN_TRANSIT
    await desk.cancel_hold(CancelHold(waiting.id, actor=DESK))
    assert desk.catalog.status(copy) == "AVAILABLE"


async def test_holds_are_listed_in_queue_order_page_by_page(desk: Desk) -> None:
    book, _ = desk.catalog.add_book(copies=0)
    placed = [await desk.place_hold(PlaceHold(f"users/p{i}", book, actor=DESK)) for i in range(5)]
    seen, token = [], ""
    while True:
        page = (await list_holds(ListHolds(book=book, page_size=2, page_token=token, actor=DESK), uow=desk.uow())).page
        seen += [(hold.id, hold.queue_position) for hold in page.items]
        token = page.next_page_token
        if not token:
            break
    assert seen == [(hold.id, position) for position, hold in enumerate(placed, start=1)]
    mine = (await list_holds(ListHolds(parent="users/me", actor=reader("users/p3")), uow=desk.uow())).page
    assert [hold.id for hold in mine.items] == [placed[3].id] and mine.total_size == 1
    with pytest.raises(PermissionDenied):
        await get_hold(GetHold(placed[0].id, reader("users/p3")), uow=desk.uow())


@pytest.mark.parametrize("by", ["barcode", "book"])
async def test_lending_a_patron_a_title_they_wait_for_fills_their_hold(
    db: FakeLoansDatabase, desk: Desk, by: str
) -> None:
    """A copy lent before one was trapped for them (a new copy, say): the next copy back goes to the next."""
    book, (first_copy,) = desk.catalog.add_book()
    lent = await desk.issue(IssueLoan("users/p1", barcode=desk.catalog.barcode(first_copy), actor=DESK))
    hold = await desk.place_hold(PlaceHold("users/p2", book, actor=DESK))
    later = await desk.place_hold(PlaceHold("users/p3", book, actor=DESK))
    assert hold.status == later.status == HoldStatus.WAITING
    new_copy = f"{book}/copies/{uuid.uuid4()}"
    desk.catalog.copies[new_copy] = CopyInfo(new_copy, book, "NEW-1", "BOOK", "AVAILABLE")  # not trapped yet
    item = {"barcode": "NEW-1"} if by == "barcode" else {"book": book}
    loan = await desk.issue(IssueLoan("users/p2", **item, actor=DESK))
    assert loan.copy == new_copy
    filled = db.holds[hold.id]
    assert filled.status == HoldStatus.FULFILLED and filled.loan == loan.name and filled.shelf_released
    assert db.event_types()[-1] == "HoldFulfilled"
    await desk.return_loan(ReturnLoan(loan_id=lent.id, actor=DESK))
    assert db.holds[later.id].status == HoldStatus.READY and db.holds[later.id].copy == first_copy


@pytest.mark.parametrize("status", ["BLOCKED", "EXPIRED", "DEACTIVATED"])
async def test_a_copy_back_skips_a_hold_whose_patron_may_not_borrow_and_keeps_its_place(
    db: FakeLoansDatabase, desk: Desk, status: str
) -> None:
    book, (copy,) = desk.catalog.add_book()
    lent = await desk.issue(IssueLoan("users/p1", book=book, actor=DESK))
    barred = await desk.place_hold(PlaceHold("users/p3", book, actor=DESK))
    next_in_line = await desk.place_hold(PlaceHold("users/p4", book, actor=DESK))
    db.patrons["users/p3"] = PatronRecord("users/p3", 2, status)  # as the users feed keeps it
    await desk.return_loan(ReturnLoan(loan_id=lent.id, actor=DESK))
    assert db.holds[next_in_line.id].status == HoldStatus.READY and db.holds[next_in_line.id].copy == copy
    assert (await get_hold(GetHold(barred.id, actor=DESK), uow=desk.uow())).queue_position == 1


@pytest.mark.parametrize("freed_by", ["cancel", "reconciler", "placing the hold"])
async def test_a_free_copy_reaches_an_eligible_patron_behind_25_who_may_not_borrow(
    db: FakeLoansDatabase, desk: Desk, freed_by: str
) -> None:
    """More holds passed over than a page of the queue: the serving reads on, a page at a time."""
    book, (copy,) = desk.catalog.add_book()
    if freed_by == "cancel":
        first = await desk.place_hold(PlaceHold("users/p0", book, actor=DESK))  # READY with the copy
    elif freed_by == "reconciler":
        desk.catalog.copies[copy] = replace(desk.catalog.copies[copy], status="IN_REPAIR")
    barred = [f"users/b{n}" for n in range(25)]
    for patron in barred:
        db.patrons[patron] = PatronRecord(patron, 2, "BLOCKED")  # as the users feed keeps it
        await desk.place_hold(PlaceHold(patron, book, actor=DESK))
    eligible = await desk.place_hold(PlaceHold("users/p9", book, actor=DESK))
    if freed_by == "cancel":
        await desk.cancel_hold(CancelHold(first.id, actor=DESK))
    elif freed_by == "reconciler":
        desk.catalog.copies[copy] = replace(desk.catalog.copies[copy], status="AVAILABLE")  # back from repair
        await desk.reconcile()
    assert (db.holds[eligible.id].status, db.holds[eligible.id].copy) == (HoldStatus.IN_TRANSIT, copy)
    assert desk.catalog.copies[copy].current_hold == eligible.name
    assert {hold.status for hold in db.holds.values() if hold.patron in barred} == {HoldStatus.WAITING}


@pytest.mark.parametrize("ended_by", ["cancel", "loan"])
async def test_a_copy_reserved_for_a_hold_after_it_ended_is_released_again_at_once(
    db: FakeLoansDatabase, desk: Desk, monkeypatch: pytest.MonkeyPatch, ended_by: str
) -> None:
    """A serving of the queue reads the hold WAITING; before it asks the catalog, another serving puts the copy
    on the shelf for it, and the hold ends (cancelled: the copy released; or the copy lent and returned). The
    late reservation put the copy back on the shelf for the ended hold, where it stayed until the reconciler's
    pass (finding 4, side note)."""
    book, (copy,) = desk.catalog.add_book()
    desk.catalog.copies[copy] = replace(desk.catalog.copies[copy], status="IN_REPAIR")
    hold = await desk.place_hold(PlaceHold("users/p1", book, actor=DESK))
    desk.catalog.copies[copy] = replace(desk.catalog.copies[copy], status="AVAILABLE")  # back from repair
    reserve = desk.catalog.reserve
    overtaken = False

    async def overtaken_by_another_serving(**asked: Any) -> CopyInfo:
        nonlocal overtaken
        if not overtaken:
            overtaken = True
            await serve_queue(book, uow=desk.uow(), clock=desk.clock, catalog=desk.catalog, zone=desk.policy.time_zone)
            assert db.holds[hold.id].status == HoldStatus.IN_TRANSIT
            if ended_by == "cancel":
                await desk.cancel_hold(CancelHold(hold.id, actor=DESK))
            else:
                loan = await desk.issue(IssueLoan("users/p1", book=book, actor=DESK))
                await desk.return_loan(ReturnLoan(loan_id=loan.id, actor=DESK))
            assert desk.catalog.status(copy) == "AVAILABLE"
        return await reserve(**asked)

    monkeypatch.setattr(desk.catalog, "reserve", overtaken_by_another_serving)
    await serve_queue(book, uow=desk.uow(), clock=desk.clock, catalog=desk.catalog, zone=desk.policy.time_zone)
    assert overtaken and not db.holds[hold.id].is_active
    assert (desk.catalog.status(copy), desk.catalog.copies[copy].current_hold) == ("AVAILABLE", "")
    assert (await desk.reconcile()).discrepancies == []


@pytest.mark.parametrize(("actor", "by_patron"), [(DESK, False), (reader("users/p1"), True)])
async def test_a_cancel_says_what_the_hold_was_and_whether_its_patron_cancelled_it(
    db: FakeLoansDatabase, desk: Desk, actor: Any, by_patron: bool
) -> None:
    """Notifications tell the reader of a READY hold cancelled by staff, not of their own cancel (finding B6)."""
    book, (copy,) = desk.catalog.add_book()
    hold = await desk.place_hold(PlaceHold("users/p1", book, actor=DESK))
    await desk.receive(copy)
    await desk.cancel_hold(CancelHold(hold.id, "copy damaged", actor=actor))
    (cancelled,) = [event for event in db.events if type(event).__name__ == "HoldCancelled"]
    assert (cancelled.previous_status, cancelled.by_patron) == (HoldStatus.READY, by_patron)  # type: ignore[attr-defined]
