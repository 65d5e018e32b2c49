"""A rule's hard due date once it has passed: nothing is lent under it (the copy goes back); and a step of the
reconciler that fails (as the reminders did on a loan due in year 1) no longer stops the others."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from services.loans.app.holding import PlaceHold
from services.loans.app.issuing import IssueLoan
from services.loans.domain.hold_record import HoldStatus
from services.loans.domain.loan_record import LoanStatus
from services.loans.domain.rules import CirculationRule, RuleTerms
from services.support.runtime.errors import FailedPrecondition

from ..desk import DESK, NOW, Desk
from ..fake_repositories import FakeLoanRepository
from ..fakes import FakeLoansDatabase

DAY = timedelta(days=1)


def add_rule_stored_earlier(db: FakeLoansDatabase, item_type: str, hard_due_at: datetime) -> None:
    """A rule whose hard due date was set before it was validated, or has passed since."""
    rule = CirculationRule.create(RuleTerms("*", item_type), now=NOW)
    rule.terms = replace(rule.terms, hard_due_at=hard_due_at)
    rule.events.clear()
    db.rules[rule.id] = rule


@pytest.mark.parametrize("hard_due_at", [NOW - 10 * DAY, datetime.min])  # datetime.min: asyncpg's 0001-01-01
@pytest.mark.parametrize("by", ["barcode", "book"])
async def test_an_issue_under_a_passed_hard_due_date_is_refused_and_the_copy_stays_on_the_shelf(
    db: FakeLoansDatabase, desk: Desk, hard_due_at: datetime, by: str
) -> None:
    add_rule_stored_earlier(db, "TERM", hard_due_at)
    book, (copy,) = desk.catalog.add_book(item_type="TERM")
    item = {"barcode": desk.catalog.barcode(copy)} if by == "barcode" else {"book": book}
    with pytest.raises(FailedPrecondition) as refused:
        await desk.issue(IssueLoan("users/p1", **item, actor=DESK))
    assert refused.value.reason == "HARD_DUE_DATE_PASSED"
    assert desk.catalog.status(copy) == "AVAILABLE" and desk.catalog.copies[copy].current_loan == ""
    assert all(loan.status == LoanStatus.FAILED and loan.compensated for loan in db.loans.values())
    assert db.fines == {} and "LoanIssued" not in db.event_types()


async def test_a_hard_due_date_still_ahead_caps_the_loan(db: FakeLoansDatabase, desk: Desk) -> None:
    add_rule_stored_earlier(db, "TERM", NOW + 3 * DAY)
    _book, (copy,) = desk.catalog.add_book(item_type="TERM")
    loan = await desk.issue(IssueLoan("users/p1", barcode=desk.catalog.barcode(copy), actor=DESK))
    end_of_its_day = datetime(2026, 11, 5, 23, 59, 59, tzinfo=UTC)  # the desk's library is on UTC
    assert loan.status == LoanStatus.ACTIVE and loan.due_at == end_of_its_day


async def test_a_reconciliation_step_that_fails_does_not_stop_the_others(
    db: FakeLoansDatabase, desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first step fails on every pass (as the reminders did on a loan due in year 1): the later ones run."""

    async def broken(*args: object, **kwargs: object) -> list[object]:
        raise OverflowError("date value out of range")

    monkeypatch.setattr(FakeLoanRepository, "unsettled", broken)
    db.set_default_rule(hold_pickup_days=3)
    book, (copy,) = desk.catalog.add_book()
    first = await desk.place_hold(PlaceHold("users/p2", book, actor=DESK))
    await desk.receive(copy)
    second = await desk.place_hold(PlaceHold("users/p3", book, actor=DESK))
    desk.clock.advance(4 * DAY)  # past the end of the third day
    report = await desk.reconcile()
    assert report.holds_expired == 1 and db.holds[first.id].status == HoldStatus.EXPIRED
    assert db.holds[second.id].status == HoldStatus.IN_TRANSIT
    assert desk.catalog.copies[copy].current_hold == second.name
    assert report.discrepancies == [
        "unfinished issues: the step failed (OverflowError: date value out of range); the next pass retries"
    ]
