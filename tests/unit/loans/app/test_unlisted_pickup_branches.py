"""Holds placed before the library listed its branches (ATHENAEUM_LIBRARY_BRANCHES) may be picked up at a branch
that is not listed ("north"): finding upgrade F2. No copy is sent to one (the queue passes it over, keeping its
place), a copy already on its way there is received at any desk of the list (READY on that desk's hold shelf),
and the reconciler names the branch."""

from __future__ import annotations

from dataclasses import replace

import pytest

from services.loans.app.holding import CancelHold, PlaceHold
from services.loans.app.issuing import IssueLoan
from services.loans.app.returning import ReturnLoan
from services.loans.domain.branches import LibraryBranches
from services.loans.domain.hold_record import HoldStatus
from services.support.runtime.errors import FailedPrecondition

from ..desk import DESK, Desk
from ..fakes import FakeLoansDatabase

TWO_BRANCHES = LibraryBranches.parse("MAIN, EAST")


def list_the_branches(db: FakeLoansDatabase, desk: Desk) -> None:
    """The operator sets the list after the holds were placed (the upgrade)."""
    db.branches = desk.branches = TWO_BRANCHES


async def test_a_copy_coming_free_passes_over_a_hold_for_an_unlisted_branch_which_keeps_its_place(
    db: FakeLoansDatabase, desk: Desk
) -> None:
    book, (copy,) = desk.catalog.add_book()
    lent = await desk.issue(IssueLoan("users/p0", book=book, actor=DESK))
    north = await desk.place_hold(PlaceHold("users/p4", book, pickup_branch="north", actor=DESK))
    main = await desk.place_hold(PlaceHold("users/p6", book, pickup_branch="MAIN", actor=DESK))
    list_the_branches(db, desk)
    await desk.return_loan(ReturnLoan(loan_id=lent.id, branch="MAIN", actor=DESK))
    assert db.holds[main.id].status == HoldStatus.READY and db.holds[main.id].copy == copy
    assert db.holds[north.id].status == HoldStatus.WAITING and db.holds[north.id].copy == ""


async def test_a_queue_served_when_a_hold_ends_sends_nothing_to_an_unlisted_branch(
    db: FakeLoansDatabase, desk: Desk
) -> None:
    """The finding's repro: the hold before it cancelled, its copy is passed on past "north" to MAIN."""
    book, (copy,) = desk.catalog.add_book()
    first = await desk.place_hold(PlaceHold("users/p2", book, pickup_branch="EAST", actor=DESK))
    await desk.receive(copy, branch="EAST")
    north = await desk.place_hold(PlaceHold("users/p4", book, pickup_branch="north", actor=DESK))
    main = await desk.place_hold(PlaceHold("users/p6", book, pickup_branch="MAIN", actor=DESK))
    list_the_branches(db, desk)
    await desk.cancel_hold(CancelHold(first.id, reason="patron asked", actor=DESK))
    assert db.holds[north.id].status == HoldStatus.WAITING
    assert db.holds[main.id].status == HoldStatus.IN_TRANSIT and db.holds[main.id].pickup_branch == "MAIN"


@pytest.mark.parametrize("desk_branch", ["EAST", "main"])
async def test_a_copy_already_sent_to_an_unlisted_branch_goes_on_the_hold_shelf_of_the_listed_desk_receiving_it(
    db: FakeLoansDatabase, desk: Desk, desk_branch: str
) -> None:
    book, (copy,) = desk.catalog.add_book()
    hold = await desk.place_hold(PlaceHold("users/p4", book, pickup_branch="north", actor=DESK))
    assert hold.status == HoldStatus.IN_TRANSIT  # sent before the list: stuck for good, before the fix
    list_the_branches(db, desk)
    received = await desk.receive(copy, branch=desk_branch)
    assert received.status == HoldStatus.READY and received.copy == copy
    assert received.pickup_branch == desk_branch.upper()  # in the list's spelling: the notice says where
    assert desk.catalog.status(copy) != "IN_TRANSIT"


async def test_a_copy_sent_to_an_unlisted_branch_is_not_received_by_a_desk_naming_no_branch(
    db: FakeLoansDatabase, desk: Desk
) -> None:
    book, (copy,) = desk.catalog.add_book()
    await desk.place_hold(PlaceHold("users/p4", book, pickup_branch="north", actor=DESK))
    list_the_branches(db, desk)
    assert (await desk.receive(copy, branch="")).status == HoldStatus.IN_TRANSIT  # it cannot say where it is


async def test_the_reconciler_names_the_unlisted_pickup_branches_of_active_holds(
    db: FakeLoansDatabase, desk: Desk
) -> None:
    book, _ = desk.catalog.add_book(copies=0)
    await desk.place_hold(PlaceHold("users/p4", book, pickup_branch="north", actor=DESK))
    await desk.place_hold(PlaceHold("users/p5", book, pickup_branch="North ", actor=DESK))
    await desk.place_hold(PlaceHold("users/p6", book, pickup_branch="MAIN", actor=DESK))
    assert not any("north" in line.lower() for line in (await desk.reconcile()).discrepancies)  # no list: any code
    list_the_branches(db, desk)
    found = [line for line in (await desk.reconcile(dry_run=True)).discrepancies if "not a branch" in line]
    assert len(found) == 2 and "'north'" in found[0] + found[1] and "'North'" in found[0] + found[1]
    assert all("MAIN" not in line for line in found)


async def test_a_copy_sent_home_to_an_unlisted_branch_is_taken_in_at_a_listed_desk_and_available_there(
    db: FakeLoansDatabase, desk: Desk
) -> None:
    """The copy catalogued at "north" before the list, released from MAIN's hold shelf: sent home to north, no
    desk could receive it (COPY_IN_TRANSIT_HOME at every one)."""
    book, (copy,) = desk.catalog.add_book()
    desk.catalog.copies[copy] = replace(desk.catalog.copies[copy], branch="north")
    hold = await desk.place_hold(PlaceHold("users/p1", book, pickup_branch="MAIN", actor=DESK))
    list_the_branches(db, desk)
    await desk.receive(copy, branch="MAIN")
    await desk.cancel_hold(CancelHold(hold.id, reason="patron asked", actor=DESK))
    assert (desk.catalog.status(copy), desk.catalog.copies[copy].current_hold) == ("IN_TRANSIT", "")
    with pytest.raises(FailedPrecondition) as taken_in:
        await desk.receive(copy, branch="EAST")
    assert (taken_in.value.reason, taken_in.value.metadata["branch"]) == ("COPY_BRANCH_NOT_LISTED", "north")
    assert "give it one of the library's branches" in taken_in.value.message
    assert desk.catalog.status(copy) == "AVAILABLE"


async def test_a_copy_on_its_way_to_an_unlisted_branch_goes_to_a_hold_waiting_for_it(
    db: FakeLoansDatabase, desk: Desk
) -> None:
    book, (copy,) = desk.catalog.add_book()
    desk.catalog.copies[copy] = replace(desk.catalog.copies[copy], branch="north")
    first = await desk.place_hold(PlaceHold("users/p1", book, pickup_branch="MAIN", actor=DESK))
    list_the_branches(db, desk)
    await desk.receive(copy, branch="MAIN")
    await desk.cancel_hold(CancelHold(first.id, reason="patron asked", actor=DESK))
    later = await desk.place_hold(PlaceHold("users/p2", book, pickup_branch="EAST", actor=DESK))
    received = await desk.receive(copy, branch="EAST")
    assert received.id == later.id and received.status == HoldStatus.READY and received.copy == copy
