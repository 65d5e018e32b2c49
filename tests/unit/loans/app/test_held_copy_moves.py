"""A copy set aside for a hold that a cataloguer moves (another shelf, call number): the pull list follows it."""

from __future__ import annotations

from dataclasses import replace

from services.loans.app.describing import follow_copy
from services.loans.app.holding import CancelHold, ListHolds, PlaceHold, list_holds
from services.loans.domain.hold_record import HoldStatus

from ..desk import DESK, Desk, reader
from ..fakes import FakeLoansDatabase


async def _pulled(desk: Desk) -> str:
    """A hold picked up at EAST whose copy is on the open shelf at MAIN: on MAIN's pull list."""
    book, (copy,) = desk.catalog.add_book("Dead Souls")
    desk.catalog.copies[copy] = replace(
        desk.catalog.copies[copy], branch="MAIN", call_number="OLD 2", shelf_location="Shelf A"
    )
    await desk.place_hold(PlaceHold("users/p1", book, pickup_branch="EAST", actor=reader("users/p1")))
    return copy


async def _pull_list(desk: Desk) -> list[tuple[str, str, str]]:
    query = ListHolds(status=HoldStatus.IN_TRANSIT, filter="pull_branch = MAIN", actor=DESK)
    return [(h.copy, h.call_number, h.shelf_location) for h in (await list_holds(query, uow=desk.uow())).page.items]


def _moved(desk: Desk, copy: str, *, call_number: str, shelf: str, by: int = 1):  # type: ignore[no-untyped-def]
    """The copy as the catalog's CopyUpdated carries it after a cataloguer's change (its version bumped)."""
    now = desk.catalog.copies[copy]
    return replace(now, call_number=call_number, shelf_location=shelf, version=now.version + by)


async def test_a_held_copy_moved_by_a_cataloguer_is_shown_where_it_now_is(desk: Desk) -> None:
    copy = await _pulled(desk)
    assert await _pull_list(desk) == [(copy, "OLD 2", "Shelf A")]
    moved = _moved(desk, copy, call_number="NEW 2", shelf="Shelf Z")
    assert await follow_copy(moved, uow=desk.uow()) == 1
    assert await _pull_list(desk) == [(copy, "NEW 2", "Shelf Z")]
    assert await follow_copy(moved, uow=desk.uow()) == 0  # the same event redelivered changes nothing


async def test_an_older_change_heard_late_does_not_undo_a_newer_one(desk: Desk) -> None:
    copy = await _pulled(desk)
    first = _moved(desk, copy, call_number="MID 2", shelf="Shelf M")
    second = _moved(desk, copy, call_number="NEW 2", shelf="Shelf Z", by=2)
    assert await follow_copy(second, uow=desk.uow()) == 1
    assert await follow_copy(first, uow=desk.uow()) == 0
    assert await _pull_list(desk) == [(copy, "NEW 2", "Shelf Z")]
    before_set_aside = replace(first, version=1, call_number="OLDER", shelf_location="Shelf 0")
    assert await follow_copy(before_set_aside, uow=desk.uow()) == 0


async def test_a_copy_no_active_hold_has_is_left_alone(db: FakeLoansDatabase, desk: Desk) -> None:
    copy = await _pulled(desk)
    (hold,) = db.holds.values()
    await desk.cancel_hold(CancelHold(hold.id, actor=DESK))
    assert await follow_copy(_moved(desk, copy, call_number="NEW 2", shelf="Shelf Z"), uow=desk.uow()) == 0
    (hold,) = db.holds.values()
    assert hold.status == HoldStatus.CANCELLED
