"""The reconciler reads the catalog, then loans: a desk step under way between the two reads (the catalog's
change made, loans' recorded a moment later, or the other way round) is not drift, and is not reported; drift
that is still there when both are read again (holds), or once the saga's timeout has passed (loans), is
reported and repaired as before."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta

import pytest

from services.loans.app.holding import CancelHold, PlaceHold
from services.loans.app.issuing import IssueLoan
from services.loans.app.returning import ReturnLoan
from services.loans.domain.borrowing import CopyInfo
from services.loans.domain.hold_record import HoldStatus
from services.loans.domain.loan_record import LoanStatus

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


async def test_an_issue_between_the_two_reads_is_no_discrepancy_until_its_saga_timeout_has_passed(
    desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    _book, (copy,) = desk.catalog.add_book()
    stale = _listing_taken_before(desk, monkeypatch)  # the copy on the open shelf: not in circulation
    loan = await desk.issue(IssueLoan("users/p1", barcode=desk.catalog.barcode(copy), actor=DESK))
    stale()
    assert (await desk.reconcile()).discrepancies == []
    desk.clock.advance(desk.reconcile_policy.saga_timeout + timedelta(seconds=1))
    report = await desk.reconcile()  # the catalog still says so: drift now
    assert any(loan.name in line and "does not have" in line for line in report.discrepancies)


async def test_a_return_between_the_two_reads_whose_copy_waits_for_another_reader_is_left_alone(
    db: FakeLoansDatabase, desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The return checked the copy in onto the hold shelf for the next reader after the catalog was read: the
    reconciler neither reports the loan nor checks the copy in itself (for no hold)."""
    book, (copy,) = desk.catalog.add_book()
    loan = await desk.issue(IssueLoan("users/p1", barcode=desk.catalog.barcode(copy), actor=DESK))
    hold = await desk.place_hold(PlaceHold("users/p2", book, actor=DESK))
    desk.clock.advance(desk.reconcile_policy.saga_timeout * 3)  # the issue is long done
    stale = _listing_taken_before(desk, monkeypatch)  # the copy out on the loan
    await desk.return_loan(ReturnLoan(loan.id, actor=DESK))
    desk.clock.advance(timedelta(seconds=1))
    check_ins: list[str] = []
    real_check_in = desk.catalog.check_in

    async def counted(**kwargs: object) -> object:
        check_ins.append(str(kwargs["copy"]))
        return await real_check_in(**kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(desk.catalog, "check_in", counted)
    stale()
    assert (await desk.reconcile()).discrepancies == []
    assert check_ins == []
    assert db.loans[loan.id].status == LoanStatus.RETURNED
    assert (desk.catalog.status(copy), desk.catalog.copies[copy].current_hold) == ("ON_HOLD_SHELF", hold.name)
    assert db.holds[hold.id].status == HoldStatus.READY
