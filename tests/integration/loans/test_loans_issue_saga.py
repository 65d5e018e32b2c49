"""The issue saga against real Postgres with in-memory peers: idempotency, refusals, compensation, recovery."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from loans_world import CURRENCY, DESK, Crash, World, crash

from services.loans.app.fining import AssessFine, assess_fine
from services.loans.app.issuing import IssueLoan
from services.loans.app.viewing import ListLoans, list_loans
from services.loans.data.tables import loans
from services.loans.domain.actors import Actor
from services.loans.domain.loan_record import LoanStatus
from services.support.runtime.errors import DependencyUnavailable, FailedPrecondition, NotFound, PermissionDenied
from services.support.runtime.idempotency import Attempt, current_attempt
from services.support.runtime.identity import Role

pytestmark = pytest.mark.integration


def issue(patron: str = "users/p1", *, barcode: str = "", book: str = "", request_id: uuid.UUID | None = None):
    return IssueLoan(patron=patron, barcode=barcode, book=book, request_id=request_id, actor=DESK)


async def loan_statuses(world: World) -> list[str]:
    async with world.engine.connect() as connection:
        return sorted((await connection.execute(sa.select(loans.c.status))).scalars())


async def test_a_copy_issued_by_barcode_is_on_loan_and_due_by_the_rule(world: World) -> None:
    await world.set_default_rule(loan_period_days=21)
    _book, (copy,) = world.catalog.add_book("Oblomov", language="ru")
    loan = await world.issue(issue(barcode=world.catalog.barcode(copy)))
    assert loan.status == LoanStatus.ACTIVE and loan.copy == copy and loan.book_title == "Oblomov"
    async with world.uow() as uow:  # kept in the database, for the lists to mark the title with
        assert (await uow.loans.get(loan.id)).book_language == "ru"
    assert loan.due_at == datetime(2026, 11, 23, 23, 59, 59, tzinfo=UTC)  # the end of the 21st day after START's
    assert world.catalog.copies[copy].current_loan == loan.name
    assert await world.subjects() == ["loan_issued"]


async def test_a_retried_issue_returns_the_same_loan(world: World) -> None:
    book, _ = world.catalog.add_book(copies=2)
    request_id = uuid.uuid4()
    first = await world.issue(issue(book=book, request_id=request_id))
    again = await world.issue(issue(book=book, request_id=request_id))
    assert again.id == first.id
    assert world.catalog.check_outs == 1 and await loan_statuses(world) == ["ACTIVE"]


async def test_unknown_barcode_book_or_patron_is_not_found(world: World) -> None:
    book, (copy,) = world.catalog.add_book()
    for command in (
        issue(barcode="NO-SUCH"),
        issue(book=f"books/{uuid.uuid4()}"),
        issue("users/nobody", book=book),
    ):
        with pytest.raises(NotFound):
            await world.issue(command)
    assert await loan_statuses(world) == [] and world.catalog.status(copy) == "AVAILABLE"


async def test_a_reader_may_not_issue_loans(world: World) -> None:
    book, _ = world.catalog.add_book()
    command = IssueLoan("users/p1", book=book, actor=Actor("users/p1", Role.READER))
    with pytest.raises(PermissionDenied):
        await world.issue(command)


async def test_a_copy_already_on_loan_is_refused_cleanly(world: World) -> None:
    _book, (copy,) = world.catalog.add_book()
    await world.issue(issue("users/p1", barcode=world.catalog.barcode(copy)))
    with pytest.raises(FailedPrecondition) as refused:
        await world.issue(issue("users/p2", barcode=world.catalog.barcode(copy)))
    assert refused.value.reason == "COPY_NOT_AVAILABLE"
    assert await loan_statuses(world) == ["ACTIVE", "FAILED"]  # the failed attempt is the saga's record only
    page = await list_loans(ListLoans(actor=DESK), uow=world.uow(), clock=world.clock)
    assert page.total_size == 1


async def test_the_loan_limit_is_enforced_with_its_reason(world: World) -> None:
    await world.set_default_rule(max_loans=1)
    book, _ = world.catalog.add_book(copies=2)
    await world.issue(issue(book=book))
    with pytest.raises(FailedPrecondition) as refused:
        await world.issue(issue(book=book))
    assert refused.value.reason == "LOAN_LIMIT_REACHED"
    # the copy the catalog lent for the refused loan was put back (compensation)
    assert sorted(c.status for c in world.catalog.copies.values()) == ["AVAILABLE", "ON_LOAN"]


async def test_a_blocked_patron_or_one_owing_too_much_may_not_borrow(world: World) -> None:
    book, _ = world.catalog.add_book(copies=2)
    world.users.blocked["users/p2"] = ("blocked: lost card",)
    with pytest.raises(FailedPrecondition) as blocked:
        await world.issue(issue("users/p2", book=book))
    assert blocked.value.reason == "PATRON_NOT_ELIGIBLE"
    owing = AssessFine("users/p1", "10.01", actor=DESK)  # the default limit is 10.00
    await assess_fine(owing, uow=world.uow(), clock=world.clock, users=world.users, currency=CURRENCY)
    with pytest.raises(FailedPrecondition) as owing:
        await world.issue(issue("users/p1", book=book))
    assert owing.value.reason == "FINES_LIMIT_EXCEEDED"
    assert world.catalog.check_outs == 0


async def test_a_patron_with_an_overdue_loan_may_not_borrow_more(world: World) -> None:
    book, _ = world.catalog.add_book(copies=2)
    await world.issue(issue(book=book))
    world.clock.advance(timedelta(days=15))
    with pytest.raises(FailedPrecondition) as blocked:
        await world.issue(issue(book=book))
    assert blocked.value.reason == "TOO_MANY_OVERDUE_LOANS"


async def test_with_users_down_nothing_is_recorded_and_nothing_lent(world: World) -> None:
    book, _ = world.catalog.add_book()
    world.users.down = True
    with pytest.raises(DependencyUnavailable):
        await world.issue(issue(book=book))
    assert await loan_statuses(world) == [] and world.catalog.check_outs == 0


async def test_with_catalog_down_the_issue_is_unavailable_then_a_retry_succeeds(world: World) -> None:
    book, (copy,) = world.catalog.add_book()
    request_id = uuid.uuid4()
    world.catalog.down = True
    with pytest.raises(DependencyUnavailable):
        await world.issue(issue(book=book, request_id=request_id))
    assert (await list_loans(ListLoans(actor=DESK), uow=world.uow(), clock=world.clock)).total_size == 0
    world.catalog.down = False
    loan = await world.issue(issue(book=book, request_id=request_id))
    assert loan.status == LoanStatus.ACTIVE and world.catalog.copies[copy].current_loan == loan.name
    assert await loan_statuses(world) == ["ACTIVE"]


async def test_a_crash_after_the_check_out_is_repaired_by_the_reconciler(world: World) -> None:
    book, (copy,) = world.catalog.add_book()
    with pytest.raises(Crash):
        await world.issue(issue(book=book), after_checkout=crash)
    assert world.catalog.status(copy) == "ON_LOAN" and await loan_statuses(world) == ["PENDING"]

    early = await world.reconcile()  # too young: it may still be in flight
    assert early.issues_settled == 0 and world.catalog.status(copy) == "ON_LOAN"
    world.clock.advance(world.reconcile_policy.saga_timeout + timedelta(seconds=1))
    report = await world.reconcile()
    assert report.issues_settled == 1
    assert world.catalog.status(copy) == "AVAILABLE" and await loan_statuses(world) == ["FAILED"]
    assert await world.scalar(sa.select(sa.func.bool_and(loans.c.compensated)))


async def test_a_compensation_that_cannot_reach_the_catalog_is_finished_by_the_reconciler(world: World) -> None:
    await world.set_default_rule(max_loans=1)
    book, _ = world.catalog.add_book(copies=2)
    await world.issue(issue(book=book))

    def catalog_goes_down() -> None:
        world.catalog.down = True

    with pytest.raises(FailedPrecondition):
        await world.issue(issue(book=book), after_checkout=catalog_goes_down)
    assert sorted(c.status for c in world.catalog.copies.values()) == ["ON_LOAN", "ON_LOAN"]
    world.catalog.down = False
    await world.reconcile()
    assert sorted(c.status for c in world.catalog.copies.values()) == ["AVAILABLE", "ON_LOAN"]


async def test_concurrent_issues_of_one_title_never_oversell(world: World) -> None:
    book, _ = world.catalog.add_book(copies=5)
    attempts = [issue(f"users/p{i}", book=book) for i in range(40)]
    results = await asyncio.gather(*(world.issue(command) for command in attempts), return_exceptions=True)
    lent = [r for r in results if not isinstance(r, BaseException)]
    refused = [r for r in results if isinstance(r, FailedPrecondition)]
    assert len(lent) == 5 and len(refused) == 35
    assert len({loan.copy for loan in lent}) == 5
    assert await loan_statuses(world) == ["ACTIVE"] * 5 + ["FAILED"] * 35


async def test_the_reconciler_checks_in_a_copy_left_out_on_an_ended_loan(world: World) -> None:
    book, (copy,) = world.catalog.add_book()
    loan = await world.issue(issue(book=book))
    async with world.engine.begin() as connection:  # drift: the loan ended here, the catalog never heard
        await connection.execute(loans.update().values(status="FAILED"))
    world.clock.advance(world.reconcile_policy.saga_timeout + timedelta(seconds=1))  # no saga under way
    report = await world.reconcile()
    assert any(loan.name in line for line in report.discrepancies)
    assert world.catalog.status(copy) == "AVAILABLE"


async def test_a_catalog_loan_or_hold_name_that_is_no_name_of_ours_is_reported_not_fatal(world: World) -> None:
    """ "loans/<not a UUID>" on a copy in the catalog crashed reconciliation with ValueError."""
    _book, (lent, shelved) = world.catalog.add_book(copies=2)
    world.catalog.copies[lent] = replace(world.catalog.copies[lent], status="ON_LOAN", current_loan="loans/x")
    world.catalog.copies[shelved] = replace(world.catalog.copies[shelved], status="ON_HOLD_SHELF",
                                            current_hold="holds/y")  # fmt: skip
    report = await world.reconcile()
    assert any("loans/x" in line for line in report.discrepancies)
    assert any("holds/y" in line for line in report.discrepancies)


@pytest.mark.parametrize("by", ["barcode", "book"])
async def test_a_first_attempt_whose_id_a_loan_already_carries_is_answered_that_loan(world: World, by: str) -> None:
    """The ledger forgot the id (past its retention): the runtime's claim calls this attempt the first, so it
    looks for nothing, meets the id at the unique index, and only then finds and answers the loan."""
    book, (copy, _) = world.catalog.add_book(copies=2)
    request_id = uuid.uuid4()
    item = {"barcode": world.catalog.barcode(copy)} if by == "barcode" else {"book": book}
    made = await world.issue(IssueLoan("users/p1", request_id=request_id, actor=DESK, **item))
    token = current_attempt.set(Attempt(request_id, "IssueLoan", uuid.uuid4(), first=True))
    try:
        again = await world.issue(IssueLoan("users/p1", request_id=request_id, actor=DESK, **item))
    finally:
        current_attempt.reset(token)
    assert again.id == made.id and again.status == LoanStatus.ACTIVE
    assert await world.scalar(sa.select(sa.func.count()).select_from(loans)) == 1 and world.catalog.check_outs == 1
