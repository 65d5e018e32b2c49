"""Reconciliation with fakes: unfinished issues settled, overdue fines and reminders, holds expired and
passed on, drift with the catalog repaired or reported; a dry run changes nothing."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import pytest

from services.loans.app.holding import PlaceHold
from services.loans.app.issuing import IssueLoan
from services.loans.app.queue_pages import QUEUE_PAGE
from services.loans.app.queues import QUEUES_PER_PAGE
from services.loans.app.reconciling import ReconcileCirculation, reconcile_circulation
from services.loans.app.returning import ReturnLoan
from services.loans.domain.hold_events import HoldExpired
from services.loans.domain.hold_record import HoldStatus
from services.loans.domain.holds import BOOK_REMOVED
from services.loans.domain.loan_record import LoanStatus
from services.support.runtime.errors import DependencyUnavailable, PermissionDenied

from ..desk import CURRENCY, DESK, Crash, Desk, crash, crash_after_check_in, reader
from ..fakes import FakeLoansDatabase

DAY = timedelta(days=1)


@pytest.mark.parametrize("actor", [DESK, reader("users/p1")])
async def test_only_admins_and_the_scheduler_reconcile(desk: Desk, actor: object) -> None:
    command = ReconcileCirculation(actor=actor)  # type: ignore[arg-type]
    with pytest.raises(PermissionDenied):
        await reconcile_circulation(
            command, uow=desk.uow(), clock=desk.clock, catalog=desk.catalog, currency=CURRENCY,
            policy=desk.reconcile_policy,
        )  # fmt: skip


async def test_an_abandoned_issue_is_settled_once_it_is_older_than_the_saga_timeout(
    db: FakeLoansDatabase, desk: Desk
) -> None:
    book, (copy,) = desk.catalog.add_book()
    with pytest.raises(Crash):
        await desk.issue(IssueLoan("users/p1", book=book, actor=DESK), after_checkout=crash)
    early = await desk.reconcile()
    assert early.issues_settled == 0 and desk.catalog.status(copy) == "ON_LOAN"  # it may still be in flight
    desk.clock.advance(desk.reconcile_policy.saga_timeout + timedelta(seconds=1))
    dry = await desk.reconcile(dry_run=True)
    assert dry.issues_settled == 0 and dry.discrepancies and desk.catalog.status(copy) == "ON_LOAN"
    assert [loan.status for loan in db.loans.values()] == [LoanStatus.PENDING]
    report = await desk.reconcile()
    assert report.issues_settled == 1 and desk.catalog.status(copy) == "AVAILABLE"
    (loan,) = db.loans.values()
    assert loan.status == LoanStatus.FAILED and loan.compensated and loan.failure_reason == "ISSUE_ABANDONED"


async def test_overdue_loans_accrue_their_fine_and_are_announced(db: FakeLoansDatabase, desk: Desk) -> None:
    db.set_default_rule(loan_period_days=3, fine_per_day=Decimal("1.00"), fine_cap=Decimal("3.00"))
    book, _ = desk.catalog.add_book()
    loan = await desk.issue(IssueLoan("users/p1", book=book, actor=DESK))
    desk.clock.advance(2 * DAY)  # due within the due-soon window
    assert (await desk.reconcile()).overdue_loans == 0
    assert db.event_types()[-1] == "LoanDueSoon"
    for days, owed in ((1, "1.00"), (2, "2.00"), (9, "3.00")):
        desk.clock.advance(loan.due_at - desk.clock.now() + days * DAY)  # type: ignore[operator]
        report = await desk.reconcile()
        assert report.overdue_loans == 1
        (fine,) = db.fines.values()
        assert fine.amount == Decimal(owed)
    assert db.event_types().count("LoanOverdue") == 2  # the first overdue day, then a week later
    await desk.return_loan(ReturnLoan(loan_id=loan.id, actor=DESK))
    assert [fine.amount for fine in db.fines.values()] == [Decimal("3.00")]  # the return found it up to date


async def test_an_uncollected_hold_expires_and_its_copy_goes_to_the_next_in_the_queue(
    db: FakeLoansDatabase, desk: Desk
) -> None:
    db.set_default_rule(hold_pickup_days=3)
    book, (copy,) = desk.catalog.add_book()
    first = await desk.place_hold(PlaceHold("users/p1", book, actor=DESK))
    await desk.receive(copy)
    second = await desk.place_hold(PlaceHold("users/p2", book, actor=DESK))
    desk.clock.advance(3 * DAY)  # the last of the three days has not ended yet
    assert (await desk.reconcile()).holds_expired == 0
    desk.clock.advance(DAY)
    report = await desk.reconcile()
    assert report.holds_expired == 1
    assert db.holds[first.id].status == HoldStatus.EXPIRED and db.holds[first.id].shelf_released
    assert db.holds[second.id].status == HoldStatus.IN_TRANSIT  # relabelled at the desk for the next
    assert desk.catalog.copies[copy].current_hold == second.name
    (expired,) = [event for event in db.events if isinstance(event, HoldExpired)]
    assert expired.next_reader_waiting  # the reader's notice says the copy went to the next reader


async def test_an_uncollected_hold_nobody_else_waits_for_expires_saying_so(db: FakeLoansDatabase, desk: Desk) -> None:
    db.set_default_rule(hold_pickup_days=3)
    book, (copy,) = desk.catalog.add_book()
    await desk.place_hold(PlaceHold("users/p1", book, actor=DESK))
    await desk.receive(copy)
    desk.clock.advance(4 * DAY)
    assert (await desk.reconcile()).holds_expired == 1
    (expired,) = [event for event in db.events if isinstance(event, HoldExpired)]
    assert not expired.next_reader_waiting  # the copy goes back on the shelf


async def test_a_hold_in_transit_never_expires(db: FakeLoansDatabase, desk: Desk) -> None:
    db.set_default_rule(hold_pickup_days=3)
    book, (copy,) = desk.catalog.add_book()
    sent = await desk.place_hold(PlaceHold("users/p1", book, actor=DESK))
    desk.clock.advance(30 * DAY)  # not pulled from the open shelf yet: the pickup window has not begun
    report = await desk.reconcile()
    assert report.holds_expired == 0 and report.discrepancies == []
    assert db.holds[sent.id].status == HoldStatus.IN_TRANSIT and desk.catalog.status(copy) == "IN_TRANSIT"


async def test_a_waiting_queue_gets_a_copy_that_became_free(db: FakeLoansDatabase, desk: Desk) -> None:
    book, (copy,) = desk.catalog.add_book()
    desk.catalog.copies[copy] = replace(desk.catalog.copies[copy], status="IN_REPAIR")
    hold = await desk.place_hold(PlaceHold("users/p1", book, actor=DESK))
    assert hold.status == HoldStatus.WAITING
    desk.catalog.copies[copy] = replace(desk.catalog.copies[copy], status="AVAILABLE")
    report = await desk.reconcile()
    assert report.holds_made_ready == 1 and db.holds[hold.id].status == HoldStatus.IN_TRANSIT


async def test_drift_with_the_catalog_is_repaired_for_our_loans_and_reported_for_strangers(
    db: FakeLoansDatabase, desk: Desk
) -> None:
    _book, (ours, stranger) = desk.catalog.add_book(copies=2)
    loan = await desk.issue(IssueLoan("users/p1", barcode=desk.catalog.barcode(ours), actor=DESK))
    db.loans[loan.id].status = LoanStatus.FAILED  # the loan ended here; the catalog never heard
    db.loans[loan.id].compensated = True
    desk.clock.advance(desk.reconcile_policy.saga_timeout + timedelta(seconds=1))  # no saga under way
    never_recorded = f"loans/{uuid.uuid4()}"
    out = replace(desk.catalog.copies[stranger], status="ON_LOAN", current_loan=never_recorded)
    desk.catalog.copies[stranger] = out
    report = await desk.reconcile()
    assert desk.catalog.status(ours) == "AVAILABLE" and desk.catalog.status(stranger) == "ON_LOAN"
    assert any(loan.name in line for line in report.discrepancies)
    assert any(never_recorded in line for line in report.discrepancies)


async def test_a_shelf_copy_for_a_waiting_hold_makes_it_ready_and_one_for_an_ended_hold_is_released(
    db: FakeLoansDatabase, desk: Desk
) -> None:
    """A crash after the catalog shelved a copy and before loans recorded it; only ON_LOAN was compared."""
    book, copies = desk.catalog.add_book(copies=3)
    for copy in copies[:2]:
        await desk.issue(IssueLoan(f"users/{uuid.uuid4()}", barcode=desk.catalog.barcode(copy), actor=DESK))
    waiting = await desk.place_hold(PlaceHold("users/w", book, actor=DESK))
    assert waiting.status == HoldStatus.IN_TRANSIT  # the third copy: now lend it too, and queue two holds
    await desk.issue(IssueLoan("users/w", book=book, actor=DESK))
    first = await desk.place_hold(PlaceHold("users/a", book, actor=DESK))
    ended = await desk.place_hold(PlaceHold("users/b", book, actor=DESK))
    db.holds[ended.id].status = HoldStatus.CANCELLED
    extra = desk.catalog.add_book(copies=2)[1]
    for hold, copy in ((first, extra[0]), (ended, extra[1])):  # shelved behind loans' back
        shelved = replace(desk.catalog.copies[copy], book=book, status="ON_HOLD_SHELF", current_hold=hold.name)
        desk.catalog.copies[copy] = shelved
    report = await desk.reconcile()
    assert db.holds[first.id].status == HoldStatus.READY and db.holds[first.id].copy == extra[0]
    assert desk.catalog.status(extra[1]) == "AVAILABLE"
    assert any(ended.name in line for line in report.discrepancies)


async def test_a_copy_back_on_the_shelf_for_a_hold_whose_release_is_done_goes_to_the_next_in_the_queue(
    db: FakeLoansDatabase, desk: Desk
) -> None:
    """An undone issue put the copy back on the shelf for its hold after that hold had ended and its release
    was recorded: a release with the earlier request_id would only get the kept answer."""
    book, (copy,) = desk.catalog.add_book()
    ended = await desk.place_hold(PlaceHold("users/a", book, actor=DESK))
    await desk.receive(copy)
    waiting = await desk.place_hold(PlaceHold("users/b", book, actor=DESK))
    assert db.holds[ended.id].status == HoldStatus.READY and db.holds[waiting.id].status == HoldStatus.WAITING
    db.holds[ended.id].status = HoldStatus.CANCELLED
    db.holds[ended.id].shelf_released = True  # recorded as released; the catalog still has it for `ended`
    report = await desk.reconcile()
    assert any(ended.name in line and "has ended" in line for line in report.discrepancies)
    assert db.holds[waiting.id].status == HoldStatus.IN_TRANSIT
    assert desk.catalog.copies[copy].current_hold == waiting.name


async def test_with_the_catalog_away_the_comparison_is_reported_not_fatal(desk: Desk) -> None:
    desk.catalog.down = True
    report = await desk.reconcile()
    assert report.discrepancies == ["could not compare with the catalog: catalog is down"]


async def test_a_return_interrupted_after_the_catalog_step_is_finished_after_the_saga_timeout(
    db: FakeLoansDatabase, desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    book, (copy,) = desk.catalog.add_book()
    loan = await desk.issue(IssueLoan("users/p1", book=book, actor=DESK))
    crash_after_check_in(desk.catalog, monkeypatch)
    with pytest.raises(Crash):
        await desk.return_loan(ReturnLoan(loan_id=loan.id, actor=DESK))
    assert (await desk.reconcile()).returns_settled == 0  # it may still be in flight
    desk.clock.advance(desk.reconcile_policy.saga_timeout + timedelta(seconds=1))
    assert (await desk.reconcile(dry_run=True)).returns_settled == 0
    assert db.loans[loan.id].status == LoanStatus.ACTIVE
    report = await desk.reconcile()
    assert report.returns_settled == 1 and db.loans[loan.id].status == LoanStatus.RETURNED
    assert desk.catalog.status(copy) == "AVAILABLE" and db.event_types().count("LoanReturned") == 1


async def test_a_return_that_never_reached_the_catalog_is_forgotten_and_the_loan_stays_out(
    db: FakeLoansDatabase, desk: Desk
) -> None:
    db.set_default_rule(loan_period_days=3, fine_per_day=Decimal("1.00"))
    book, (copy,) = desk.catalog.add_book()
    loan = await desk.issue(IssueLoan("users/p1", book=book, actor=DESK))
    desk.clock.advance(5 * DAY)
    desk.catalog.down = True
    with pytest.raises(DependencyUnavailable):
        await desk.return_loan(ReturnLoan(loan_id=loan.id, actor=DESK))
    desk.catalog.down = False
    assert (await desk.reconcile()).overdue_loans == 0  # not fined further while its return may be under way
    desk.clock.advance(desk.reconcile_policy.saga_timeout + timedelta(seconds=1))
    report = await desk.reconcile()
    assert report.returns_settled == 1 and desk.catalog.status(copy) == "ON_LOAN"
    kept = db.loans[loan.id]
    assert kept.status == LoanStatus.ACTIVE and kept.return_started_at is None
    assert (await desk.reconcile()).overdue_loans == 1  # an ordinary late loan again


async def test_every_title_with_a_queue_is_served_not_only_the_first_page(db: FakeLoansDatabase, desk: Desk) -> None:
    """More titles with a queue than a page: a copy that becomes free for any of them is trapped."""
    db.set_default_rule(max_holds=1000)
    titles = []
    for _ in range(QUEUES_PER_PAGE + 5):
        book, (copy,) = desk.catalog.add_book()
        desk.catalog.copies[copy] = replace(desk.catalog.copies[copy], status="IN_REPAIR")
        titles.append((book, copy, await desk.place_hold(PlaceHold("users/p1", book, actor=DESK))))
    last_by_name = max(titles, key=lambda title: title[0])
    freed = {book: copy for book, copy, _ in (titles[0], titles[-1], last_by_name)}  # oldest, newest, last by name
    for copy in freed.values():
        desk.catalog.copies[copy] = replace(desk.catalog.copies[copy], status="AVAILABLE")
    report = await desk.reconcile()
    assert report.holds_made_ready == len(freed)
    assert {book for book, _, hold in titles if db.holds[hold.id].status == HoldStatus.IN_TRANSIT} == set(freed)


async def test_the_holds_of_a_book_deleted_from_the_catalog_are_cancelled(db: FakeLoansDatabase, desk: Desk) -> None:
    book, _ = desk.catalog.add_book(copies=0)
    other, _ = desk.catalog.add_book(copies=0)
    queue = [await desk.place_hold(PlaceHold(f"users/p{n}", book, actor=DESK)) for n in range(QUEUE_PAGE + 3)]
    kept = await desk.place_hold(PlaceHold("users/p0", other, actor=DESK))
    desk.catalog.remove_book(book)
    report = await desk.reconcile()
    assert {(db.holds[hold.id].status, db.holds[hold.id].cancel_reason) for hold in queue} == {
        (HoldStatus.CANCELLED, BOOK_REMOVED)
    }
    assert db.holds[kept.id].status == HoldStatus.WAITING
    assert f"{book} is no longer in the catalog: {len(queue)} hold(s) cancelled" in report.discrepancies
    assert (await desk.reconcile()).discrepancies == []
