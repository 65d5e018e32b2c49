"""The issue saga with fakes: lending, retries, refusals before and after the check-out, compensation (what it
asks its peers: test_issuing_peer_calls.py)."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from services.loans.app.holding import PlaceHold
from services.loans.app.issuing import IssueLoan
from services.loans.app.renewing import RenewLoan
from services.loans.domain.loan_record import LoanStatus
from services.support.runtime.errors import (
    Conflict,
    DependencyUnavailable,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    PermissionDenied,
)

from ..desk import DESK, NOW, Crash, Desk, crash, reader
from ..fakes import FakeLoansDatabase


def issue(patron: str = "users/p1", *, barcode: str = "", book: str = "", request_id: uuid.UUID | None = None):
    return IssueLoan(patron=patron, barcode=barcode, book=book, request_id=request_id, actor=DESK)


def statuses(db: FakeLoansDatabase) -> list[LoanStatus]:
    return sorted(loan.status for loan in db.loans.values())


async def test_a_copy_issued_by_barcode_is_lent_due_by_the_rule(db: FakeLoansDatabase, desk: Desk) -> None:
    db.set_default_rule(loan_period_days=21)
    _book, (copy,) = desk.catalog.add_book("Oblomov")
    loan = await desk.issue(issue(barcode=desk.catalog.barcode(copy)))
    assert loan.status == LoanStatus.ACTIVE and loan.copy == copy and loan.book_title == "Oblomov"
    due = datetime.combine(NOW.date() + timedelta(days=21), datetime.max.time().replace(microsecond=0), UTC)
    assert loan.due_at == due and loan.issued_by == DESK.user  # the end of the 21st day
    assert desk.catalog.copies[copy].current_loan == loan.name
    assert db.loans[loan.id].status == LoanStatus.ACTIVE and db.event_types() == ["LoanIssued"]


async def test_a_loan_and_its_renewal_are_due_at_the_end_of_a_day_in_the_library_time_zone(
    db: FakeLoansDatabase, desk: Desk
) -> None:
    """Due to the second of the issue, a patron coming back later that day was overdue and refused at the desk."""
    db.set_default_rule(loan_period_days=14, renewal_period_days=7)
    desk.policy = replace(desk.policy, time_zone=ZoneInfo("Asia/Tokyo"))  # UTC+9, no summer time
    desk.clock.advance(timedelta(hours=7))  # 16:00 UTC, 01:00 on 3 November in Tokyo
    _book, (copy,) = desk.catalog.add_book()
    loan = await desk.issue(issue(barcode=desk.catalog.barcode(copy)))
    assert loan.due_at == datetime(2026, 11, 17, 14, 59, 59, tzinfo=UTC)  # 23:59:59 on 17 November in Tokyo
    renewed = await desk.renew(RenewLoan(loan.id, actor=DESK))
    assert renewed.due_at == datetime(2026, 11, 24, 14, 59, 59, tzinfo=UTC)


async def test_a_retried_request_returns_the_same_loan_and_lends_once(db: FakeLoansDatabase, desk: Desk) -> None:
    book, _ = desk.catalog.add_book(copies=2)
    request_id = uuid.uuid4()
    first = await desk.issue(issue(book=book, request_id=request_id))
    again = await desk.issue(issue(book=book, request_id=request_id))
    assert again.id == first.id and desk.catalog.check_outs == 1 and statuses(db) == [LoanStatus.ACTIVE]


async def test_a_retry_after_a_crash_carries_on_from_the_pending_loan(db: FakeLoansDatabase, desk: Desk) -> None:
    book, (copy,) = desk.catalog.add_book()
    request_id = uuid.uuid4()
    with pytest.raises(Crash):
        await desk.issue(issue(book=book, request_id=request_id), after_checkout=crash)
    assert statuses(db) == [LoanStatus.PENDING] and desk.catalog.status(copy) == "ON_LOAN"
    loan = await desk.issue(issue(book=book, request_id=request_id))
    assert loan.status == LoanStatus.ACTIVE and desk.catalog.copies[copy].current_loan == loan.name
    assert statuses(db) == [LoanStatus.ACTIVE] and desk.catalog.check_outs == 1


async def test_with_the_catalog_down_nothing_is_recorded(db: FakeLoansDatabase, desk: Desk) -> None:
    book, _ = desk.catalog.add_book()
    desk.catalog.down = True
    with pytest.raises(DependencyUnavailable):
        await desk.issue(issue(book=book, request_id=uuid.uuid4()))
    assert db.loans == {}


@pytest.mark.parametrize(
    ("command", "field"),
    [
        (IssueLoan("users/p1", actor=DESK), "item"),
        (IssueLoan("users/p1", barcode="B1", book="books/b", actor=DESK), "item"),
        (IssueLoan("patrons/p1", barcode="B1", actor=DESK), "patron"),
        (IssueLoan("users/p1", book="books/not-a-uuid", actor=DESK), "book"),
    ],
)
async def test_a_malformed_request_names_its_field(desk: Desk, command: IssueLoan, field: str) -> None:
    with pytest.raises(InvalidArgument) as bad:
        await desk.issue(command)
    assert [v.field for v in bad.value.violations] == [field]


async def test_only_staff_issue_loans(desk: Desk) -> None:
    book, _ = desk.catalog.add_book()
    with pytest.raises(PermissionDenied) as refused:
        await desk.issue(IssueLoan("users/p1", book=book, actor=reader("users/p1")))
    assert refused.value.reason == "STAFF_ONLY"


async def test_unknown_barcode_book_or_patron_is_not_found_and_nothing_is_recorded(
    db: FakeLoansDatabase, desk: Desk
) -> None:
    book, _ = desk.catalog.add_book()
    for command in (issue(barcode="NO-SUCH"), issue(book=f"books/{uuid.uuid4()}"), issue("users/nobody", book=book)):
        with pytest.raises(NotFound):
            await desk.issue(command)
    assert db.loans == {} and desk.catalog.check_outs == 0


async def test_a_blocked_patron_is_refused_before_the_catalog_is_asked(db: FakeLoansDatabase, desk: Desk) -> None:
    book, _ = desk.catalog.add_book()
    desk.users.blocked["users/p1"] = ("blocked: lost card",)
    with pytest.raises(FailedPrecondition) as refused:
        await desk.issue(issue(book=book))
    assert refused.value.reason == "PATRON_NOT_ELIGIBLE" and desk.catalog.check_outs == 0 and db.loans == {}


async def test_with_users_down_nothing_is_recorded_and_nothing_lent(db: FakeLoansDatabase, desk: Desk) -> None:
    book, _ = desk.catalog.add_book()
    desk.users.down = True
    with pytest.raises(DependencyUnavailable):
        await desk.issue(issue(book=book))
    assert db.loans == {} and desk.catalog.check_outs == 0


async def test_a_retry_of_a_finished_issue_is_answered_while_users_is_down(db: FakeLoansDatabase, desk: Desk) -> None:
    """The retry's loan is found finished before users is asked; a request with a new id needs users."""
    book, _ = desk.catalog.add_book(copies=2)
    request_id = uuid.uuid4()
    first = await desk.issue(issue(book=book, request_id=request_id))
    desk.users.down = True
    again = await desk.issue(issue(book=book, request_id=request_id))
    assert again.id == first.id and again.status == LoanStatus.ACTIVE
    with pytest.raises(DependencyUnavailable):
        await desk.issue(issue(book=book, request_id=uuid.uuid4()))
    assert statuses(db) == [LoanStatus.ACTIVE] and desk.catalog.check_outs == 1


async def test_a_copy_the_catalog_refuses_fails_the_saga_record_only(db: FakeLoansDatabase, desk: Desk) -> None:
    _book, (copy,) = desk.catalog.add_book()
    await desk.issue(issue("users/p1", barcode=desk.catalog.barcode(copy)))
    with pytest.raises(FailedPrecondition) as refused:
        await desk.issue(issue("users/p2", barcode=desk.catalog.barcode(copy)))
    assert refused.value.reason == "COPY_NOT_AVAILABLE"
    failed = next(loan for loan in db.loans.values() if loan.status == LoanStatus.FAILED)
    assert failed.failure_reason == "COPY_NOT_AVAILABLE" and failed.compensated


async def test_a_limit_found_after_the_check_out_puts_the_copy_back(db: FakeLoansDatabase, desk: Desk) -> None:
    db.set_default_rule(max_loans=1)
    book, _ = desk.catalog.add_book(copies=2)
    await desk.issue(issue(book=book))
    with pytest.raises(FailedPrecondition) as refused:
        await desk.issue(issue(book=book))  # by book: the copy's type, hence the limit, is known after check-out
    assert refused.value.reason == "LOAN_LIMIT_REACHED"
    assert sorted(c.status for c in desk.catalog.copies.values()) == ["AVAILABLE", "ON_LOAN"]
    failed = next(loan for loan in db.loans.values() if loan.status == LoanStatus.FAILED)
    assert failed.compensated and failed.failure_reason == "LOAN_LIMIT_REACHED"


async def test_a_compensation_that_cannot_reach_the_catalog_is_left_for_the_reconciler(
    db: FakeLoansDatabase, desk: Desk
) -> None:
    db.set_default_rule(max_loans=1)
    book, _ = desk.catalog.add_book(copies=2)
    await desk.issue(issue(book=book))

    def catalog_goes_down() -> None:
        desk.catalog.down = True

    with pytest.raises(FailedPrecondition):
        await desk.issue(issue(book=book), after_checkout=catalog_goes_down)
    failed = next(loan for loan in db.loans.values() if loan.status == LoanStatus.FAILED)
    assert not failed.compensated


async def test_an_issue_the_reconciler_abandoned_meanwhile_is_refused(db: FakeLoansDatabase, desk: Desk) -> None:
    book, _ = desk.catalog.add_book()

    def reconciler_gives_up() -> None:
        (pending,) = db.loans.values()
        pending.fail("ISSUE_ABANDONED", now=NOW, copy_out=True)
        pending.version += 1  # as the reconciler's save does

    with pytest.raises(Conflict) as abandoned:
        await desk.issue(issue(book=book), after_checkout=reconciler_gives_up)
    assert abandoned.value.reason == "ISSUE_ABANDONED"


async def test_a_patron_with_a_ready_hold_borrows_the_shelf_copy_and_fulfils_the_hold(
    db: FakeLoansDatabase, desk: Desk
) -> None:
    book, (copy,) = desk.catalog.add_book()
    hold = await desk.place_hold(PlaceHold("users/p1", book, actor=DESK))
    loan = await desk.issue(issue(book=book))
    assert loan.copy == copy and loan.hold == hold.name
    assert db.event_types()[-2:] == ["LoanIssued", "HoldFulfilled"]
