"""A return racing another change to the hold it traps its copy for: the copy goes to the next in the queue
(or back to the shelf) at once, never left on the hold shelf for a hold that has ended until the reconciler."""

from __future__ import annotations

from dataclasses import replace

import pytest

from services.loans.app.holding import CancelHold, PlaceHold
from services.loans.app.issuing import IssueLoan
from services.loans.app.returning import ReturnLoan
from services.loans.app.shelf import serve_queue
from services.loans.domain.hold_record import HoldStatus

from ..desk import DESK, Desk, reader
from ..fakes import FakeLoansDatabase


@pytest.mark.parametrize("when", ["before", "after"])
@pytest.mark.parametrize("next_in_line", [True, False], ids=["someone-next", "nobody-next"])
async def test_a_head_hold_cancelled_while_its_copy_comes_back_passes_the_copy_on_at_once(
    db: FakeLoansDatabase, desk: Desk, monkeypatch: pytest.MonkeyPatch, when: str, next_in_line: bool
) -> None:
    """The cancel lands after the return chose the hold to trap for, before or after the catalog's step."""
    book, (copy,) = desk.catalog.add_book()
    lent = await desk.issue(IssueLoan("users/p1", book=book, actor=DESK))
    head = await desk.place_hold(PlaceHold("users/p2", book, actor=DESK))
    later = await desk.place_hold(PlaceHold("users/p3", book, actor=DESK)) if next_in_line else None
    checked_in = desk.catalog.check_in

    async def cancelled_meanwhile(**step: str) -> object:
        assert step["hold"] == head.name  # the trap is decided: the race is on
        if when == "before":
            await desk.cancel_hold(CancelHold(head.id, actor=reader("users/p2")))
        answer = await checked_in(**step)
        if when == "after":
            await desk.cancel_hold(CancelHold(head.id, actor=reader("users/p2")))
        return answer

    monkeypatch.setattr(desk.catalog, "check_in", cancelled_meanwhile)
    await desk.return_loan(ReturnLoan(barcode=desk.catalog.barcode(lent.copy), actor=DESK))
    cancelled = db.holds[head.id]
    assert cancelled.status == HoldStatus.CANCELLED and not cancelled.copy_left_on_shelf
    if later is not None:
        assert (db.holds[later.id].status, db.holds[later.id].copy) == (HoldStatus.IN_TRANSIT, copy)  # passed on
        assert desk.catalog.copies[copy].current_hold == later.name
    else:
        assert desk.catalog.status(copy) == "AVAILABLE" and desk.catalog.copies[copy].current_hold == ""


async def test_a_copy_back_for_a_head_hold_served_meanwhile_goes_to_the_next_in_line(
    db: FakeLoansDatabase, desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The head got another copy and borrowed it while the return was on its way to the catalog: the copy
    back, one too many for it, is taken off the shelf and offered to the next in the queue."""
    book, (copy, other) = desk.catalog.add_book(copies=2)
    lent = await desk.issue(IssueLoan("users/p1", barcode=desk.catalog.barcode(copy), actor=DESK))
    desk.catalog.copies[other] = replace(desk.catalog.copies[other], status="IN_REPAIR")
    head = await desk.place_hold(PlaceHold("users/p2", book, actor=DESK))
    later = await desk.place_hold(PlaceHold("users/p3", book, actor=DESK))
    checked_in = desk.catalog.check_in

    async def served_meanwhile(**step: str) -> object:
        desk.catalog.copies[other] = replace(desk.catalog.copies[other], status="AVAILABLE")  # back from repair
        await serve_queue(book, uow=desk.uow(), clock=desk.clock, catalog=desk.catalog, zone=desk.policy.time_zone)
        await desk.issue(IssueLoan("users/p2", barcode=desk.catalog.barcode(other), actor=DESK))
        return await checked_in(**step)

    monkeypatch.setattr(desk.catalog, "check_in", served_meanwhile)
    await desk.return_loan(ReturnLoan(loan_id=lent.id, actor=DESK))
    assert db.holds[head.id].status == HoldStatus.FULFILLED
    assert (db.holds[later.id].status, db.holds[later.id].copy) == (HoldStatus.IN_TRANSIT, copy)  # passed on
    assert desk.catalog.copies[copy].current_hold == later.name
