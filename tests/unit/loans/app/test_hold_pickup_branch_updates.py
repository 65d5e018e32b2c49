"""UpdateHold with fakes: a waiting hold's pickup branch changed by its reader or staff, at its place in the
queue; a hold the queue passed over for a branch the library no longer lists is served once it names one."""

from __future__ import annotations

import uuid

import pytest

from services.loans.app.holding import GetHold, PlaceHold, get_hold
from services.loans.app.issuing import IssueLoan
from services.loans.app.pickup_changes import UpdateHold, update_hold
from services.loans.app.returning import ReturnLoan
from services.loans.domain.actors import Actor
from services.loans.domain.branches import LibraryBranches
from services.loans.domain.hold_record import HoldStatus
from services.loans.domain.holds import Hold
from services.support.runtime.errors import Conflict, FailedPrecondition, InvalidArgument, PermissionDenied

from ..desk import DESK, Desk, reader
from ..fakes import FakeLoansDatabase

TWO_BRANCHES = LibraryBranches.parse("MAIN, EAST")


async def change(desk: Desk, hold: Hold, branch: str, *, actor: Actor | None = None, **more: object) -> Hold:
    command = UpdateHold(hold.id, pickup_branch=branch, actor=actor or reader(hold.patron), **more)  # type: ignore[arg-type]
    zone = desk.policy.time_zone
    return await update_hold(command, uow=desk.uow(), clock=desk.clock, catalog=desk.catalog, zone=zone)


async def queue_of_two(desk: Desk) -> tuple[Hold, Hold]:
    book, _ = desk.catalog.add_book(copies=0)
    first = await desk.place_hold(PlaceHold("users/p1", book, pickup_branch="MAIN", actor=DESK))
    second = await desk.place_hold(PlaceHold("users/p2", book, pickup_branch="MAIN", actor=DESK))
    return first, second


async def test_a_reader_changes_the_pickup_branch_of_their_waiting_hold_which_keeps_its_place(
    db: FakeLoansDatabase, desk: Desk
) -> None:
    db.branches = TWO_BRANCHES
    first, second = await queue_of_two(desk)
    changed = await change(desk, first, "east")  # in the list's spelling, as PlaceHold keeps it
    assert (changed.pickup_branch, changed.status, changed.queue_position) == ("EAST", HoldStatus.WAITING, 1)
    assert changed.etag != first.etag
    assert (await get_hold(GetHold(second.id), uow=desk.uow())).queue_position == 2
    assert db.event_types()[-1] == "HoldPickupBranchChanged"
    staff = await change(desk, second, "EAST", actor=DESK)
    assert staff.pickup_branch == "EAST" and db.events[-1].changed_by == DESK.user  # type: ignore[attr-defined]


async def test_another_reader_may_not_change_a_hold(db: FakeLoansDatabase, desk: Desk) -> None:
    first, _ = await queue_of_two(desk)
    with pytest.raises(PermissionDenied):
        await change(desk, first, "EAST", actor=reader("users/p2"))
    assert db.holds[first.id].pickup_branch == "MAIN"


async def test_a_branch_the_library_does_not_list_or_none_is_refused(db: FakeLoansDatabase, desk: Desk) -> None:
    db.branches = TWO_BRANCHES
    first, _ = await queue_of_two(desk)
    for branch in ("WEST", "  "):
        with pytest.raises(InvalidArgument) as refused:
            await change(desk, first, branch)
        assert [v.field for v in refused.value.violations] == ["hold.pickup_branch"]
    with pytest.raises(InvalidArgument) as mask:
        await change(desk, first, "EAST", update_mask=("status",))
    assert [v.field for v in mask.value.violations] == ["update_mask"]
    assert db.holds[first.id].pickup_branch == "MAIN" and db.event_types()[-1] == "HoldPlaced"


async def test_the_same_branch_changes_nothing_and_answers_the_hold(db: FakeLoansDatabase, desk: Desk) -> None:
    first, _ = await queue_of_two(desk)
    answered = await change(desk, first, " main ")
    assert (answered.pickup_branch, answered.version, answered.queue_position) == ("MAIN", first.version, 1)
    assert db.event_types()[-1] == "HoldPlaced"


async def test_a_stale_etag_is_refused(db: FakeLoansDatabase, desk: Desk) -> None:
    first, _ = await queue_of_two(desk)
    await change(desk, first, "EAST")
    with pytest.raises(Conflict) as stale:
        await change(desk, first, "WEST", etag=first.etag)
    assert stale.value.reason == "STALE_ETAG" and db.holds[first.id].pickup_branch == "EAST"
    current = db.holds[first.id].etag
    assert (await change(desk, first, "WEST", etag=current)).pickup_branch == "WEST"


async def test_a_hold_with_a_copy_set_aside_keeps_its_branch(db: FakeLoansDatabase, desk: Desk) -> None:
    book, (copy,) = desk.catalog.add_book()
    hold = await desk.place_hold(PlaceHold("users/p1", book, pickup_branch="MAIN", actor=DESK))
    assert hold.status == HoldStatus.IN_TRANSIT
    for _ in range(2):
        with pytest.raises(FailedPrecondition) as refused:
            await change(desk, hold, "EAST")
        assert refused.value.reason == "HOLD_COPY_SET_ASIDE" and db.holds[hold.id].pickup_branch == "MAIN"
        await desk.receive(copy)  # READY on the hold shelf: fixed too


async def test_a_retry_with_the_same_request_id_gets_the_first_answer(db: FakeLoansDatabase, desk: Desk) -> None:
    first, _ = await queue_of_two(desk)
    request_id = uuid.uuid4()
    await change(desk, first, "EAST", request_id=request_id)
    again = await change(desk, first, "EAST", request_id=request_id, etag=first.etag)  # not checked again
    assert again.pickup_branch == "EAST" and db.event_types().count("HoldPickupBranchChanged") == 1


async def test_a_hold_passed_over_for_an_unlisted_branch_is_served_once_it_names_a_listed_one(
    db: FakeLoansDatabase, desk: Desk
) -> None:
    """Placed at "north" before the library listed its branches: a copy coming free went past it (back on the open
    shelf, nobody else waiting). Moved to EAST, the queue is served at once: the copy is set aside for it."""
    book, (copy,) = desk.catalog.add_book()
    lent = await desk.issue(IssueLoan("users/p0", book=book, actor=DESK))
    north = await desk.place_hold(PlaceHold("users/p4", book, pickup_branch="north", actor=DESK))
    db.branches = desk.branches = TWO_BRANCHES
    await desk.return_loan(ReturnLoan(loan_id=lent.id, branch="MAIN", actor=DESK))
    assert db.holds[north.id].status == HoldStatus.WAITING and desk.catalog.status(copy) == "AVAILABLE"
    served = await change(desk, north, "East")
    assert (served.status, served.pickup_branch, served.copy) == (HoldStatus.IN_TRANSIT, "EAST", copy)
    assert db.event_types()[-2:] == ["HoldPickupBranchChanged", "HoldInTransit"]
