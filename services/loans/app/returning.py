"""Returning a loan: the copy is checked in (onto the hold shelf when someone waits), the loan closed and
any overdue fine assessed, in one transaction after the catalog step."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from services.loans.app.fining import bring_overdue_fine_up_to_date
from services.loans.app.ports import Catalog, LoansUnitOfWork
from services.loans.app.saga import step_id
from services.loans.app.shelf import after_commit, release_extra, serve_queue
from services.loans.domain.actors import SYSTEM, Actor
from services.loans.domain.holds import HOLD, Hold
from services.loans.domain.loans import LOAN, Loan, LoanStatus, visible
from services.support.runtime.clock import Clock
from services.support.runtime.errors import FailedPrecondition, InvalidArgument


@dataclass(frozen=True, slots=True)
class ReturnLoan:
    loan_id: uuid.UUID | None = None
    barcode: str = ""
    request_id: uuid.UUID | None = None
    actor: Actor = SYSTEM


async def return_loan(cmd: ReturnLoan, *, uow: LoansUnitOfWork, clock: Clock, catalog: Catalog, currency: str) -> Loan:
    """Check the copy in (onto the hold shelf when someone waits), close the loan, assess any overdue fine."""
    cmd.actor.ensure_staff("take returns")
    if cmd.loan_id is None and not cmd.barcode:
        raise InvalidArgument.field("name", "give the loan's name or the copy's barcode")
    async with uow.reading():
        if previous := await uow.requests.recall(cmd.request_id, "ReturnLoan"):
            return await uow.loans.get(LOAN.parse_id(previous))
        loan = visible(await (uow.loans.get(cmd.loan_id) if cmd.loan_id else uow.loans.active_by_barcode(cmd.barcode)))
        if loan.status == LoanStatus.RETURNED:
            raise FailedPrecondition(f"{loan.name} was already returned", reason="LOAN_ALREADY_RETURNED")
        waiting = await uow.holds.next_waiting(loan.book)
    trap = waiting.name if waiting else ""
    # The step's id names the hold asked for: a retry after the queue changed is another request, and the
    # catalog, for which the loan has ended, answers where the copy went the first time.
    checked_in = await catalog.check_in(
        copy=loan.copy, loan=loan.name, hold=trap, request_id=step_id(loan.id, f"check-in {trap}")
    )
    shelved_for = checked_in.current_hold if checked_in.status == "ON_HOLD_SHELF" else ""
    loan, extra = await _close(loan.id, shelved_for, cmd, uow=uow, clock=clock, currency=currency)
    if extra is not None:
        await after_commit(release_extra(*extra, catalog=catalog), loan.name)
    elif waiting is not None and not shelved_for:  # the hold asked for got a copy meanwhile: serve the next
        await after_commit(serve_queue(loan.book, uow=uow, clock=clock, catalog=catalog), loan.name)
    return loan


async def _close(
    loan_id: uuid.UUID, shelved_for: str, cmd: ReturnLoan, *, uow: LoansUnitOfWork, clock: Clock, currency: str
) -> tuple[Loan, tuple[Hold, str] | None]:
    """The copy is back: close the loan with any overdue fine, and give the copy to the hold it went on the
    shelf for (READY, or an ended hold's copy to release); also what the shelf holds one copy too many of."""
    now = clock.now()
    extra = None
    async with uow:
        loan = await uow.loans.get(loan_id, for_update=True)
        fine, _ = await bring_overdue_fine_up_to_date(uow, loan, now=now, actor=cmd.actor.user, currency=currency)
        loan.return_copy(now=now, fine=fine)
        await uow.loans.save(loan)
        if shelved_for:
            hold = await uow.holds.get(HOLD.parse_id(shelved_for))
            if hold.copy == loan.copy:
                pass  # recorded by an earlier try
            elif hold.take_shelf_copy(loan.copy, now=now):
                await uow.holds.save(hold)
            else:
                extra = (hold, loan.copy)
        await uow.requests.remember(cmd.request_id, "ReturnLoan", loan.name)
        await uow.commit()
    return loan, extra
