"""What a reconciliation pass costs grows with what changed, not with what exists: the queues of titles whose
copies are all out cost one question to the catalog, not a refused reservation each; the fines of every overdue
loan are read at once; and a scheduled pass runs in one loans process at a time."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

from services.loans.app.holding import PlaceHold
from services.loans.app.issuing import IssueLoan
from services.loans.domain.hold_record import HoldStatus

from ..desk import DESK, Desk
from ..fakes import FakeLoansDatabase

QUEUED_TITLES = 30


async def test_queues_whose_copies_are_all_out_cost_one_question_to_the_catalog_not_a_reservation_each(
    db: FakeLoansDatabase, desk: Desk
) -> None:
    db.set_default_rule(max_holds=1000)
    titles = []
    for n in range(QUEUED_TITLES):
        book, (copy,) = desk.catalog.add_book()
        desk.catalog.copies[copy] = replace(desk.catalog.copies[copy], status="IN_REPAIR")
        titles.append((book, copy, await desk.place_hold(PlaceHold(f"users/p{n}", book, actor=DESK))))
    reserved_before = desk.catalog.reserves
    report = await desk.reconcile()
    assert (report.holds_made_ready, desk.catalog.reserves - reserved_before) == (0, 0)
    assert desk.catalog.availability_calls == 1

    _, copy, hold = titles[7]  # back from repair: its queue is served on the next pass, and only it
    desk.catalog.copies[copy] = replace(desk.catalog.copies[copy], status="AVAILABLE")
    report = await desk.reconcile()
    assert (report.holds_made_ready, desk.catalog.reserves - reserved_before) == (1, 1)
    assert (db.holds[hold.id].status, desk.catalog.copies[copy].current_hold) == (HoldStatus.IN_TRANSIT, hold.name)
    assert desk.catalog.availability_calls == 2


async def test_while_the_catalog_is_away_no_queue_is_served_and_the_next_pass_serves_them(
    db: FakeLoansDatabase, desk: Desk
) -> None:
    book, (copy,) = desk.catalog.add_book()
    desk.catalog.copies[copy] = replace(desk.catalog.copies[copy], status="IN_REPAIR")
    hold = await desk.place_hold(PlaceHold("users/p1", book, actor=DESK))
    desk.catalog.copies[copy] = replace(desk.catalog.copies[copy], status="AVAILABLE")
    desk.catalog.down = True
    assert (await desk.reconcile()).holds_made_ready == 0
    desk.catalog.down = False
    assert (await desk.reconcile()).holds_made_ready == 1
    assert db.holds[hold.id].status == HoldStatus.IN_TRANSIT


async def test_the_fines_of_every_overdue_loan_are_read_in_one_statement_per_pass(
    db: FakeLoansDatabase, desk: Desk
) -> None:
    db.set_default_rule(loan_period_days=3, fine_per_day=Decimal("1.00"), fine_cap=Decimal("5.00"), max_loans=50)
    loans = []
    for n in range(6):
        book, _ = desk.catalog.add_book()
        loans.append(await desk.issue(IssueLoan(f"users/p{n}", book=book, actor=DESK)))
    desk.clock.advance(timedelta(days=5))
    for expected_fines in (6, 0):  # assessed on the first pass; none changed on the second
        reads_before = db.fine_reads
        report = await desk.reconcile()
        assert (report.overdue_loans, report.fines_assessed) == (6, expected_fines)
        assert db.fine_reads - reads_before == 1
    assert sorted(fine.loan for fine in db.fines.values()) == sorted(loan.name for loan in loans)
    assert {fine.amount for fine in db.fines.values()} == {Decimal("2.00")}
