"""A library that lists its branches (ATHENAEUM_LIBRARY_BRANCHES) takes holds for them only, and desks at them
only: a typo ("WEST" for a library of MAIN and EAST) pulled a copy and sent it to a branch no desk could
receive it at, IN_TRANSIT for ever."""

from __future__ import annotations

import pytest

from services.loans.app.holding import PlaceHold
from services.loans.app.issuing import IssueLoan
from services.loans.app.receiving import ReceiveHoldCopy, receive_hold_copy
from services.loans.app.returning import ReturnLoan
from services.loans.domain.branches import NAMED_IN_FULL, LibraryBranches
from services.loans.domain.hold_record import HoldStatus
from services.support.runtime.errors import InvalidArgument

from ..desk import DESK, Desk
from ..fakes import FakeLoansDatabase

TWO_BRANCHES = LibraryBranches.parse("MAIN, EAST")


@pytest.fixture
def library(desk: Desk) -> Desk:
    desk.branches = TWO_BRANCHES
    return desk


async def test_a_hold_for_a_branch_the_library_does_not_have_is_refused_and_no_copy_is_pulled(
    db: FakeLoansDatabase, library: Desk
) -> None:
    book, (copy,) = library.catalog.add_book()
    with pytest.raises(InvalidArgument) as refused:
        await library.place_hold(PlaceHold("users/p1", book, pickup_branch="WEST", actor=DESK))
    (violation,) = refused.value.violations
    assert violation.field == "hold.pickup_branch"
    assert "'WEST' is not a branch of this library: give one of MAIN, EAST" in violation.description
    assert not db.holds and library.catalog.status(copy) == "AVAILABLE" and not db.event_types()


@pytest.mark.parametrize(("pickup", "kept"), [("EAST", "EAST"), (" east ", "EAST"), ("", "MAIN")])
async def test_a_listed_branch_in_any_letter_case_or_none_is_taken_in_the_lists_spelling(
    db: FakeLoansDatabase, library: Desk, pickup: str, kept: str
) -> None:
    """None: the patron's home branch (MAIN), listed. Before (findings-second F8), " east " was kept as typed,
    and lists filtered by branch missed the hold."""
    book, (copy,) = library.catalog.add_book()
    hold = await library.place_hold(PlaceHold("users/p1", book, pickup_branch=pickup, actor=DESK))
    assert hold.status == HoldStatus.IN_TRANSIT and hold.pickup_branch == kept and hold.copy == copy


async def test_a_home_branch_typed_wrong_is_refused_as_the_pickup_branch_it_defaults_to(library: Desk) -> None:
    library.users.home_branches["users/p1"] = "EATS"
    book, _ = library.catalog.add_book()
    with pytest.raises(InvalidArgument) as refused:
        await library.place_hold(PlaceHold("users/p1", book, actor=DESK))
    assert refused.value.violations[0].field == "hold.pickup_branch"
    assert "the account's home branch 'EATS' is not a branch" in refused.value.violations[0].description
    hold = await library.place_hold(PlaceHold("users/p1", book, pickup_branch="EAST", actor=DESK))
    assert hold.pickup_branch == "EAST"  # the reader may still pick one


async def test_a_library_that_lists_no_branches_takes_any_code(desk: Desk) -> None:
    book, _ = desk.catalog.add_book()
    hold = await desk.place_hold(PlaceHold("users/p1", book, pickup_branch="WEST", actor=DESK))
    assert hold.pickup_branch == "WEST"


async def test_a_desk_at_a_branch_the_library_does_not_have_may_not_receive_or_take_back(
    db: FakeLoansDatabase, library: Desk
) -> None:
    book, (copy,) = library.catalog.add_book()
    hold = await library.place_hold(PlaceHold("users/p1", book, pickup_branch="EAST", actor=DESK))
    command = ReceiveHoldCopy(library.catalog.barcode(copy), "EATS", actor=DESK)
    with pytest.raises(InvalidArgument) as refused:
        await receive_hold_copy(
            command,
            uow=library.uow(),
            clock=library.clock,
            catalog=library.catalog,
            zone=library.policy.time_zone,
            branches=library.branches,
        )
    assert refused.value.violations[0].field == "branch" and "give one of MAIN, EAST" in refused.value.message
    assert db.holds[hold.id].status == HoldStatus.IN_TRANSIT
    assert (await library.receive(copy, branch="")).status == HoldStatus.IN_TRANSIT  # no branch: as before
    assert (await library.receive(copy, branch="east")).status == HoldStatus.READY


async def test_a_return_at_a_desk_of_an_unknown_branch_is_refused_and_one_naming_none_is_taken(
    db: FakeLoansDatabase, library: Desk
) -> None:
    book, _ = library.catalog.add_book()
    lent = await library.issue(IssueLoan("users/p1", book=book, actor=DESK))
    with pytest.raises(InvalidArgument) as refused:
        await library.return_loan(ReturnLoan(loan_id=lent.id, branch="WEST", actor=DESK))
    assert refused.value.violations[0].field == "branch"
    assert db.loans[lent.id].returned_at is None
    returned = await library.return_loan(ReturnLoan(loan_id=lent.id, branch="", actor=DESK))
    assert returned.returned_at is not None


def test_a_long_list_is_not_spelled_out_in_a_refusal() -> None:
    many = LibraryBranches(tuple(f"B{n}" for n in range(NAMED_IN_FULL + 1)))
    with pytest.raises(InvalidArgument, match=f"is not one of this library's {NAMED_IN_FULL + 1} branches"):
        many.ensure_desk("WEST")


@pytest.mark.parametrize("listed", ["MAIN,,EAST", "MAIN, main", " , "])
def test_a_list_with_an_empty_or_repeated_code_is_refused(listed: str) -> None:
    with pytest.raises(ValueError):
        LibraryBranches.parse(listed)
