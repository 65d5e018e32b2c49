"""Receiving a copy for a hold while the hold ends (a cancel, an account closed), and where a hold with no pickup
branch waits: the desk's answer is the truth after the race."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest

from services.loans.api.convert import hold_to_proto
from services.loans.app.holding import CancelHold, PlaceHold
from services.loans.app.issuing import IssueLoan
from services.loans.app.returning import ReturnLoan
from services.loans.domain.hold_record import HoldStatus
from services.support.runtime.errors import FailedPrecondition

from ..desk import DESK, Desk
from ..fakes import FakeLoansDatabase


def _cancel_around(desk: Desk, step: str, hold_id: object, *, before: bool) -> None:
    """The catalog's `step` runs once with a cancel of the hold just before (or just after) it."""
    original: Callable[..., Awaitable[object]] = getattr(desk.catalog, step)
    done = False

    async def racing(*args: object, **kwargs: object) -> object:
        nonlocal done
        first, done = not done, True
        if first and before:
            await desk.cancel_hold(CancelHold(hold_id, actor=DESK))  # type: ignore[arg-type]
        answer = await original(*args, **kwargs)
        if first and not before:
            await desk.cancel_hold(CancelHold(hold_id, actor=DESK))  # type: ignore[arg-type]
        return answer

    setattr(desk.catalog, step, racing)


@pytest.mark.parametrize(
    ("step", "before"), [("lookup_copy", False), ("shelve", True), ("shelve", False)], ids=["read", "shelve", "record"]
)
async def test_a_copy_received_while_its_hold_is_cancelled_is_received_for_the_next_reader_here(
    db: FakeLoansDatabase, desk: Desk, step: str, before: bool
) -> None:
    book, (copy,) = desk.catalog.add_book()
    first = await desk.place_hold(PlaceHold("users/p1", book, pickup_branch="EAST", actor=DESK))
    second = await desk.place_hold(PlaceHold("users/p2", book, pickup_branch="EAST", actor=DESK))
    _cancel_around(desk, step, first.id, before=before)
    received = await desk.receive(copy, branch="EAST")
    assert (received.id, received.status) == (second.id, HoldStatus.READY)  # never the cancelled hold
    assert db.holds[first.id].status == HoldStatus.CANCELLED
    assert (desk.catalog.status(copy), desk.catalog.copies[copy].current_hold) == ("ON_HOLD_SHELF", second.name)


async def test_a_copy_received_while_its_hold_is_cancelled_with_nobody_next_is_to_be_put_back(desk: Desk) -> None:
    book, (copy,) = desk.catalog.add_book()
    hold = await desk.place_hold(PlaceHold("users/p1", book, pickup_branch="EAST", actor=DESK))
    _cancel_around(desk, "shelve", hold.id, before=False)
    with pytest.raises(FailedPrecondition) as refused:
        await desk.receive(copy, branch="EAST")
    assert refused.value.reason == "COPY_NOT_HELD" and refused.value.metadata["status"] == "AVAILABLE"
    assert desk.catalog.status(copy) == "AVAILABLE"


async def test_a_copy_set_aside_for_a_closed_account_s_hold_is_received_for_the_next_reader(
    db: FakeLoansDatabase, desk: Desk
) -> None:
    """A hold cancelled with its copy still set aside (its release not done yet): the desk passes it on."""
    book, (copy,) = desk.catalog.add_book()
    first = await desk.place_hold(PlaceHold("users/p1", book, pickup_branch="EAST", actor=DESK))
    second = await desk.place_hold(PlaceHold("users/p2", book, pickup_branch="EAST", actor=DESK))
    db.holds[first.id].cancel("the account was closed", now=desk.clock.now())
    received = await desk.receive(copy, branch="EAST")
    assert (received.id, received.status) == (second.id, HoldStatus.READY)
    assert not db.holds[first.id].copy_left_on_shelf


async def test_a_hold_with_no_pickup_branch_waits_at_the_branch_of_the_desk_that_received_it(
    db: FakeLoansDatabase, desk: Desk
) -> None:
    book, (copy,) = desk.catalog.add_book()
    hold = await desk.place_hold(PlaceHold("users/p1", book, pickup_branch=" ", actor=DESK))
    received = await desk.receive(copy, branch=" WEST ")
    assert (received.status, received.pickup_branch) == (HoldStatus.READY, "WEST")
    assert db.holds[hold.id].pickup_branch == "WEST"


async def test_a_hold_with_no_pickup_branch_trapped_by_a_return_waits_at_the_returning_desk(
    db: FakeLoansDatabase, desk: Desk
) -> None:
    book, _ = desk.catalog.add_book()
    lent = await desk.issue(IssueLoan("users/p1", book=book, actor=DESK))
    hold = await desk.place_hold(PlaceHold("users/p2", book, pickup_branch=" ", actor=DESK))
    await desk.return_loan(ReturnLoan(loan_id=lent.id, branch="WEST", actor=DESK))
    assert (db.holds[hold.id].status, db.holds[hold.id].pickup_branch) == (HoldStatus.READY, "WEST")


async def test_a_copy_to_pull_from_the_open_shelf_is_told_from_one_sent_on_to_the_pickup_branch(
    db: FakeLoansDatabase, desk: Desk
) -> None:
    """The pull list shows a branch only the copies still on its open shelf; a copy sent on is on its way."""
    pulled_book, (pulled,) = desk.catalog.add_book()
    pull = await desk.place_hold(PlaceHold("users/p1", pulled_book, pickup_branch="EAST", actor=DESK))
    assert (pull.status, db.holds[pull.id].to_pull, hold_to_proto(db.holds[pull.id]).to_pull) == (
        HoldStatus.IN_TRANSIT,
        True,
        True,
    )
    assert (await desk.receive(pulled, branch="")).to_pull  # a desk that does not say where it is sends nothing
    sent_on = await desk.receive(pulled, branch="MAIN")  # pulled at MAIN: sent on to EAST
    assert (sent_on.status, sent_on.to_pull, db.holds[pull.id].to_pull) == (HoldStatus.IN_TRANSIT, False, False)
    assert (await desk.receive(pulled, branch="EAST")).status == HoldStatus.READY

    returned_book, _ = desk.catalog.add_book()
    lent = await desk.issue(IssueLoan("users/p2", book=returned_book, actor=DESK))
    trapped = await desk.place_hold(PlaceHold("users/p3", returned_book, pickup_branch="EAST", actor=DESK))
    await desk.return_loan(ReturnLoan(loan_id=lent.id, branch="MAIN", actor=DESK))
    assert (db.holds[trapped.id].status, db.holds[trapped.id].to_pull) == (HoldStatus.IN_TRANSIT, False)
    assert not hold_to_proto(db.holds[trapped.id]).to_pull
