"""A return's close on a real Postgres: with nothing to settle, one statement closes the loan, writes its
LoanReturned and records the request; a loan with an overdue fine recorded, or changed since the note, is
left to the transaction, which finds the fine (and carries it on the event) or reads the loan again."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import replace
from datetime import UTC, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa
from loans_world import CURRENCY, DESK, World

from athenaeum.loans.v1 import events_pb2
from services.loans.app.issuing import IssueLoan
from services.loans.app.returning import ReturnLoan
from services.loans.data.tables import loans
from services.loans.domain.calendar import NO_CLOSED_DAYS
from services.loans.domain.fines import Fine, FineKind
from services.loans.domain.loan_record import LoanStatus
from services.loans.domain.loans import Loan
from services.support.runtime.idempotency import REQUESTS
from services.support.runtime.outbox import OUTBOX

pytestmark = pytest.mark.integration


async def _lent(world: World) -> tuple[Loan, str]:
    _, (copy,) = world.catalog.add_book()
    barcode = world.catalog.barcode(copy)
    return await world.issue(IssueLoan("users/p1", barcode=barcode, actor=DESK)), barcode


async def _noted(world: World, loan: Loan) -> Loan:
    """The loan with its return noted, as the note commits it."""
    async with world.uow() as uow:
        noted = await uow.loans.get(loan.id)
        noted.begin_return(world.clock.now())
        await uow.loans.save(noted)
        await uow.commit()
    return noted


async def _fined(world: World, loan: Loan) -> Fine:
    fine = Fine.assess(
        patron=loan.patron, kind=FineKind.OVERDUE, amount=Decimal("0.60"), currency=CURRENCY,
        now=world.clock.now(), actor="system", loan=loan.name,
    )  # fmt: skip
    async with world.uow() as uow:
        await uow.fines.add(fine)
        await uow.commit()
    return fine


async def _close(world: World, loan: Loan, request_id: uuid.UUID) -> bool:
    async with world.uow().single_write() as uow:
        await uow.requests.remember(request_id, "ReturnLoan", loan.name)
        loan.return_copy(now=world.clock.now(), fine=None, zone=UTC, closed=NO_CLOSED_DAYS)
        closed = await uow.loans.close_unless_fined(loan)
        await uow.commit()
    return closed


async def _state(world: World, loan: Loan, request_id: uuid.UUID) -> tuple[object, object, list[str]]:
    status = await world.scalar(sa.select(loans.c.status).where(loans.c.id == loan.id))
    record = await world.scalar(sa.select(REQUESTS.c.resource).where(REQUESTS.c.request_id == request_id))
    return status, record, await world.subjects()


async def test_a_close_with_nothing_to_settle_writes_the_loan_its_event_and_the_request_at_once(world: World) -> None:
    loan, _ = await _lent(world)
    request_id = uuid.uuid4()
    assert await _close(world, await _noted(world, loan), request_id)
    assert await _state(world, loan, request_id) == ("RETURNED", loan.name, ["loan_issued", "loan_returned"])


async def test_an_overdue_fine_recorded_or_a_change_since_the_note_writes_nothing(world: World) -> None:
    loan, _ = await _lent(world)
    noted = await _noted(world, loan)
    stale = await _noted(world, loan)  # noted again meanwhile: the first note's version is gone
    request_id = uuid.uuid4()
    assert not await _close(world, noted, request_id)
    await _fined(world, loan)
    assert not await _close(world, stale, request_id)
    assert await _state(world, loan, request_id) == ("ACTIVE", None, ["loan_issued", "fine_assessed"])


async def test_a_return_of_a_loan_with_an_overdue_fine_carries_the_fine_on_its_event(world: World) -> None:
    """Fined while it was late, then given a later due date: the use case falls back to the transaction."""
    loan, barcode = await _lent(world)
    fine = await _fined(world, loan)
    request_id = uuid.uuid4()
    returned = await world.return_loan(ReturnLoan(barcode=barcode, request_id=request_id, actor=DESK))
    assert returned.status == LoanStatus.RETURNED
    assert await _state(world, loan, request_id) == (
        "RETURNED",
        loan.name,
        ["loan_issued", "fine_assessed", "loan_returned"],
    )
    async with world.uow().reading() as uow:
        assert (await uow.fines.get(fine.id)).amount == fine.amount  # not overdue now: not grown
    payload = await world.scalar(sa.select(OUTBOX.c.payload).order_by(OUTBOX.c.seq.desc()).limit(1))
    assert events_pb2.LoanReturned.FromString(payload).fine.name == fine.name  # type: ignore[arg-type]
    again = await world.return_loan(ReturnLoan(barcode=barcode, request_id=request_id, actor=DESK))
    assert again.id == loan.id and (await world.subjects()).count("loan_returned") == 1


async def test_a_retry_of_a_return_closed_at_once_is_answered_from_the_record_it_carried(world: World) -> None:
    loan, barcode = await _lent(world)
    request_id = uuid.uuid4()
    await world.return_loan(ReturnLoan(barcode=barcode, request_id=request_id, actor=DESK))
    again = await world.return_loan(ReturnLoan(barcode=barcode, request_id=request_id, actor=DESK))
    assert again.id == loan.id and again.status == LoanStatus.RETURNED
    assert await _state(world, loan, request_id) == ("RETURNED", loan.name, ["loan_issued", "loan_returned"])


async def test_a_copy_out_on_a_loan_lost_with_a_restore_is_checked_in_and_audited_by_its_return(world: World) -> None:
    """The loans database restored from a backup taken before the loan: the return by barcode checks the copy in,
    stores nothing of the loan and publishes UnrecordedLoanReturned through the outbox (finding 4, D6)."""
    loan, barcode = await _lent(world)
    world.catalog.copies[loan.copy] = replace(world.catalog.copies[loan.copy], changed_at=world.clock.now())
    async with world.engine.begin() as connection:
        await connection.execute(sa.delete(loans).where(loans.c.id == loan.id))
    world.clock.advance(world.reconcile_policy.saga_timeout + timedelta(seconds=1))
    returned = await world.return_loan(ReturnLoan(barcode=barcode, request_id=uuid.uuid4(), actor=DESK))
    assert (returned.name, returned.status, returned.copy) == (loan.name, LoanStatus.RETURNED, loan.copy)
    assert world.catalog.status(loan.copy) == "AVAILABLE"
    assert await world.scalar(sa.select(sa.func.count()).select_from(loans)) == 0
    assert await world.subjects() == ["loan_issued", "unrecorded_loan_returned"]
    payload = await world.scalar(sa.select(OUTBOX.c.payload).order_by(OUTBOX.c.seq.desc()).limit(1))
    audited = events_pb2.UnrecordedLoanReturned.FromString(payload)  # type: ignore[arg-type]
    assert (audited.loan.name, audited.loan.barcode, audited.returned_by) == (loan.name, barcode, DESK.user)


async def test_returns_at_once_of_a_copy_on_a_loan_lost_with_a_restore_audit_it_once(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each desk found the copy out on the unrecorded loan and published UnrecordedLoanReturned (finding 3, F6):
    the request ledger's insert under an id made of the loan's name lets one of them."""
    loan, barcode = await _lent(world)
    world.catalog.copies[loan.copy] = replace(world.catalog.copies[loan.copy], changed_at=world.clock.now())
    async with world.engine.begin() as connection:
        await connection.execute(sa.delete(loans).where(loans.c.id == loan.id))
    world.clock.advance(world.reconcile_policy.saga_timeout + timedelta(seconds=1))
    all_found_it_out, check_in = asyncio.Barrier(3), world.catalog.check_in

    async def when_all_found_it_out(**step: str) -> object:
        await all_found_it_out.wait()
        return await check_in(**step)

    monkeypatch.setattr(world.catalog, "check_in", when_all_found_it_out)
    answers = await asyncio.gather(
        *(world.return_loan(ReturnLoan(barcode=barcode, request_id=uuid.uuid4(), actor=DESK)) for _ in range(3))
    )
    assert {(answer.name, answer.status) for answer in answers} == {(loan.name, LoanStatus.RETURNED)}
    assert await world.subjects() == ["loan_issued", "unrecorded_loan_returned"]
