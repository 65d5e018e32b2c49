"""Finding D10: a copy sent home from another branch's hold shelf, handed in at a desk in Return mode, is received
as the desk's Receive would (Koha's and Evergreen's check-in receive a transfer), and the refusal says what was
done: it used to be "not on loan: nothing to return", the copy left in transit."""

from __future__ import annotations

from dataclasses import replace

import pytest

from services.loans.app.holding import CancelHold, PlaceHold
from services.loans.app.returning import ReturnLoan
from services.support.runtime.errors import FailedPrecondition

from ..desk import DESK, Desk


async def _sent_home_to_main(desk: Desk) -> tuple[str, str]:
    """A MAIN copy received on EAST's hold shelf, whose hold was cancelled: on its way home to MAIN."""
    book, (copy,) = desk.catalog.add_book()
    desk.catalog.copies[copy] = replace(desk.catalog.copies[copy], branch="MAIN")
    hold = await desk.place_hold(PlaceHold("users/p1", book, pickup_branch="EAST", actor=DESK))
    await desk.receive(copy, branch="EAST")
    await desk.cancel_hold(CancelHold(hold.id, actor=DESK))
    assert (desk.catalog.status(copy), desk.catalog.copies[copy].current_hold) == ("IN_TRANSIT", "")
    return book, copy


async def _hand_in(desk: Desk, copy: str, branch: str) -> FailedPrecondition:
    with pytest.raises(FailedPrecondition) as refused:
        await desk.return_loan(ReturnLoan(barcode=desk.catalog.barcode(copy), actor=DESK, branch=branch))
    return refused.value


async def test_a_copy_coming_home_handed_in_at_home_is_received_and_available(desk: Desk) -> None:
    _, copy = await _sent_home_to_main(desk)
    refused = await _hand_in(desk, copy, "MAIN")
    assert (refused.reason, refused.metadata["branch"]) == ("COPY_RECEIVED_HOME", "MAIN")
    assert desk.catalog.status(copy) == "AVAILABLE"


async def test_a_copy_coming_home_that_a_hold_takes_is_received_for_it_on_the_hold_shelf(desk: Desk) -> None:
    book, copy = await _sent_home_to_main(desk)
    waiting = await desk.place_hold(PlaceHold("users/p2", book, pickup_branch="MAIN", actor=DESK))
    refused = await _hand_in(desk, copy, "MAIN")
    assert refused.reason == "COPY_RECEIVED_FOR_HOLD"
    assert (refused.metadata["hold"], refused.metadata["status"]) == (waiting.name, "READY")
    assert desk.catalog.copies[copy].current_hold == waiting.name


async def test_a_copy_coming_home_handed_in_elsewhere_is_to_be_sent_on(desk: Desk) -> None:
    _, copy = await _sent_home_to_main(desk)
    refused = await _hand_in(desk, copy, "WEST")
    assert (refused.reason, refused.metadata["branch"]) == ("COPY_IN_TRANSIT_HOME", "MAIN")
    assert desk.catalog.status(copy) == "IN_TRANSIT"


async def test_a_copy_on_the_shelf_is_not_on_loan_and_its_status_said(desk: Desk) -> None:
    _, (copy,) = desk.catalog.add_book()
    refused = await _hand_in(desk, copy, "MAIN")
    assert (refused.reason, refused.metadata["status"]) == ("COPY_NOT_ON_LOAN", "AVAILABLE")
