"""Which pickup branches a copy may be sent to, and which desks receive for one it may not (finding upgrade F2)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from services.loans.domain.branches import ANY_BRANCH, LibraryBranches
from services.loans.domain.holds import Hold
from services.support.runtime.errors import FailedPrecondition

TWO_BRANCHES = LibraryBranches.parse("MAIN, EAST")
NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(("pickup", "served"), [("EAST", True), (" east ", True), ("", True), ("north", False)])
def test_a_copy_is_sent_only_to_a_listed_pickup_branch_or_none(pickup: str, served: bool) -> None:
    assert TWO_BRANCHES.serves(pickup) is served
    assert ANY_BRANCH.serves(pickup)  # a library that lists none: any code, as before


@pytest.mark.parametrize(
    ("pickup", "desk", "receives"),
    [("north", "EAST", True), ("north", "", False), ("north", "WEST", False), ("MAIN", "EAST", False)],
)
def test_a_listed_desk_receives_for_an_unlisted_pickup_branch_only(pickup: str, desk: str, receives: bool) -> None:
    assert TWO_BRANCHES.receives_for(pickup, desk=desk) is receives


def test_a_hold_not_in_transit_is_not_received_instead_and_keeps_its_pickup_branch() -> None:
    hold = Hold.place(patron="users/p4", book="books/b", pickup_branch="north", pickup_days=3, now=NOW)
    with pytest.raises(FailedPrecondition):
        hold.receive_instead("books/b/copies/c", now=NOW, zone=UTC, at_branch="EAST")
    assert hold.pickup_branch == "north"
