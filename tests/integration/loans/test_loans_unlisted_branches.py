"""Against real Postgres: holds picked up at a branch the library does not list (placed before the list, finding
upgrade F2) are passed over by the queue and named by the reconciler (the holds repository counts active holds by
pickup branch)."""

from __future__ import annotations

from functools import partial

import pytest
from loans_world import DESK, World

from services.loans.app.holding import PlaceHold
from services.loans.app.issuing import IssueLoan
from services.loans.app.returning import ReturnLoan
from services.loans.domain.branches import LibraryBranches
from services.loans.domain.hold_record import HoldStatus

pytestmark = pytest.mark.integration
TWO_BRANCHES = LibraryBranches.parse("MAIN,EAST")


async def test_a_hold_for_an_unlisted_branch_is_passed_over_and_named_by_the_reconciler(world: World) -> None:
    book, _ = world.catalog.add_book()
    lent = await world.issue(IssueLoan("users/p0", book=book, actor=DESK))
    north = await world.place_hold(PlaceHold("users/p4", book, pickup_branch="north", actor=DESK))
    await world.place_hold(PlaceHold("users/p5", book, pickup_branch="North", actor=DESK))
    main = await world.place_hold(PlaceHold("users/p6", book, pickup_branch="MAIN", actor=DESK))
    world.new_uow = partial(world.new_uow, branches=TWO_BRANCHES)  # the operator lists the branches
    world.branches = TWO_BRANCHES
    await world.return_loan(ReturnLoan(loan_id=lent.id, branch="MAIN", actor=DESK))
    async with world.uow().reading() as uow:
        assert (await uow.holds.get(main.id)).status == HoldStatus.READY
        assert (await uow.holds.get(north.id)).status == HoldStatus.WAITING
        assert await uow.holds.active_pickup_branches() == {"north": 1, "North": 1, "MAIN": 1}
    named = [line for line in (await world.reconcile(dry_run=True)).discrepancies if "not a branch" in line]
    assert sorted(line.split()[0] for line in named) == ["1", "1"] and len(named) == 2
