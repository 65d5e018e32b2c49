"""Loans compares branch codes by the runtime's rule (same_branch: trimmed, casefolded), as the catalog and users
do. It upper-cased the branch a copy was passed on from, and for a code where upper() and casefold() differ that is
another branch: the Turkish dotless i (U+0131) upper-cases to I, which casefolds to i. A copy
released at its own branch Kadikoy was then sent "home" to where it already was, and the next hold was to pull it
from the hold shelf of a "KADIKOY" no desk's list names."""

from __future__ import annotations

from dataclasses import replace

import pytest

from services.loans.app.holding import PlaceHold
from services.loans.app.receiving import HOLD_PATRON_MAY_NOT_BORROW
from services.loans.domain.branches import LibraryBranches
from services.loans.domain.hold_record import HoldStatus
from services.loans.domain.patrons import PatronRecord
from services.support.runtime.branches import same_branch
from services.support.runtime.errors import FailedPrecondition

from ..desk import DESK, Desk
from ..fakes import FakeLoansDatabase

KADIKOY = "Kad\u0131k\u00f6y"  # Kadikoy, its first i dotless (U+0131)


def _block(db: FakeLoansDatabase, patron: str) -> None:
    db.patrons[patron] = PatronRecord(patron, 2, "BLOCKED")


def test_the_code_is_one_where_upper_and_casefold_differ() -> None:
    assert not same_branch(KADIKOY.upper(), KADIKOY)  # what the old upper() made of it is another branch


async def test_a_copy_passed_over_at_its_own_non_ascii_branch_stays_there_and_is_not_sent_home(
    db: FakeLoansDatabase, desk: Desk
) -> None:
    book, (copy,) = desk.catalog.add_book()
    desk.catalog.copies[copy] = replace(desk.catalog.copies[copy], branch=KADIKOY)
    barred = await desk.place_hold(PlaceHold("users/p3", book, pickup_branch=KADIKOY, actor=DESK))
    _block(db, "users/p3")
    with pytest.raises(FailedPrecondition) as refused:
        await desk.receive(copy, branch=KADIKOY)
    assert refused.value.reason == HOLD_PATRON_MAY_NOT_BORROW  # back on the open shelf here
    assert (desk.catalog.status(copy), desk.catalog.sent_home) == ("AVAILABLE", {})
    assert db.holds[barred.id].status == HoldStatus.WAITING


async def test_the_next_hold_pulls_a_copy_from_the_non_ascii_hold_shelf_it_was_passed_on_from(
    db: FakeLoansDatabase, desk: Desk
) -> None:
    book, (copy,) = desk.catalog.add_book()
    desk.catalog.copies[copy] = replace(desk.catalog.copies[copy], branch="MAIN")
    barred = await desk.place_hold(PlaceHold("users/p3", book, pickup_branch=KADIKOY, actor=DESK))
    later = await desk.place_hold(PlaceHold("users/p4", book, pickup_branch="MAIN", actor=DESK))
    await desk.catalog.shelve(copy=copy, hold=barred.name)  # on Kadikoy's hold shelf; the receipt stopped there
    _block(db, "users/p3")
    await desk.reconcile()  # passed over from Kadikoy's hold shelf
    hold = db.holds[later.id]
    assert (hold.status, hold.copy, hold.to_pull) == (HoldStatus.IN_TRANSIT, copy, True)
    assert hold.hold_shelf_branch == KADIKOY  # on Kadikoy's pull list, where the copy is


async def test_a_desk_s_branch_is_kept_in_the_library_list_s_spelling(db: FakeLoansDatabase, desk: Desk) -> None:
    desk.branches = LibraryBranches.parse(f"MAIN, {KADIKOY}")
    book, (copy,) = desk.catalog.add_book()
    desk.catalog.copies[copy] = replace(desk.catalog.copies[copy], branch="MAIN")
    await desk.place_hold(PlaceHold("users/p3", book, pickup_branch=KADIKOY, actor=DESK))
    await desk.receive(copy, branch="MAIN")
    _block(db, "users/p3")
    with pytest.raises(FailedPrecondition) as refused:  # nobody else waits: sent home (the desk is told so)
        await desk.receive(copy, branch=f" {KADIKOY.lower()} ")  # typed in lower case: the list's Kadikoy
    assert refused.value.reason == HOLD_PATRON_MAY_NOT_BORROW
    assert (desk.catalog.status(copy), desk.catalog.sent_home) == ("IN_TRANSIT", {copy: KADIKOY})
