"""The reconciler reads the catalog, then loans: a desk step under way between the two reads (the catalog's
change made, loans' recorded a moment later, or the other way round) is not drift, and is not reported; drift
that is still there when both are read again is reported and repaired as before."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import pytest

from services.loans.app.holding import CancelHold, PlaceHold
from services.loans.domain.borrowing import CopyInfo
from services.loans.domain.hold_record import HoldStatus

from ..desk import DESK, Desk
from ..fakes import FakeLoansDatabase


def _listing_taken_before(desk: Desk, monkeypatch: pytest.MonkeyPatch) -> Callable[[], None]:
    """The catalog's listing of copies in circulation as it was now, answered on the next reconcile (the steps
    run after this call land between its read and loans')."""
    before = [replace(copy) for copy in desk.catalog.copies.values() if copy.status != "AVAILABLE"]

    async def stale() -> list[CopyInfo]:
        return before

    return lambda: monkeypatch.setattr(desk.catalog, "copies_in_circulation", stale)


async def test_a_hold_placed_between_the_two_reads_is_no_discrepancy(
    db: FakeLoansDatabase, desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    book, (copy,) = desk.catalog.add_book()
    stale = _listing_taken_before(desk, monkeypatch)  # the copy on the open shelf: not in circulation
    hold = await desk.place_hold(PlaceHold("users/p1", book, pickup_branch="EAST", actor=DESK))
    stale()
    assert (await desk.reconcile()).discrepancies == []
    assert (db.holds[hold.id].status, desk.catalog.copies[copy].current_hold) == (HoldStatus.IN_TRANSIT, hold.name)


async def test_a_cancel_and_a_receipt_between_the_two_reads_are_no_discrepancy(
    db: FakeLoansDatabase, desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    book, (copy,) = desk.catalog.add_book()
    other_book, (other,) = desk.catalog.add_book()
    cancelled = await desk.place_hold(PlaceHold("users/p1", book, pickup_branch="EAST", actor=DESK))
    received = await desk.place_hold(PlaceHold("users/p1", other_book, pickup_branch="EAST", actor=DESK))
    stale = _listing_taken_before(desk, monkeypatch)  # both copies in transit for their holds
    await desk.cancel_hold(CancelHold(cancelled.id, actor=DESK))
    await desk.receive(other, branch="EAST")
    stale()
    assert (await desk.reconcile()).discrepancies == []
    assert desk.catalog.status(copy) == "AVAILABLE" and db.holds[received.id].status == HoldStatus.READY


async def test_drift_still_there_when_read_again_is_reported_and_repaired(db: FakeLoansDatabase, desk: Desk) -> None:
    book, (copy,) = desk.catalog.add_book()
    hold = await desk.place_hold(PlaceHold("users/p1", book, actor=DESK))
    desk.catalog.copies[copy] = replace(desk.catalog.copies[copy], status="AVAILABLE", current_hold="")
    report = await desk.reconcile()
    assert any(hold.name in line and "does not have" in line for line in report.discrepancies)
