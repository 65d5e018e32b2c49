"""Returning a loan: the copy is checked in (onto the hold shelf when someone waits), the loan closed and
any overdue fine assessed, in one transaction after the catalog step."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from services.loans.app.fining import bring_overdue_fine_up_to_date
from services.loans.app.ports import Catalog, LoansUnitOfWork
from services.loans.app.saga import step_id
from services.loans.domain.actors import SYSTEM, Actor
from services.loans.domain.holds import HoldStatus
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
    async with uow:
        if previous := await uow.requests.recall(cmd.request_id, "ReturnLoan"):
            return await uow.loans.get(LOAN.parse_id(previous))
        loan = visible(await (uow.loans.get(cmd.loan_id) if cmd.loan_id else uow.loans.active_by_barcode(cmd.barcode)))
        if loan.status == LoanStatus.RETURNED:
            raise FailedPrecondition(f"{loan.name} was already returned", reason="LOAN_ALREADY_RETURNED")
        waiting = await uow.holds.next_waiting(loan.book)
    trap = waiting.name if waiting else ""
    await catalog.check_in(copy=loan.copy, loan=loan.name, hold=trap, request_id=step_id(loan.id, "check-in"))
    now = clock.now()
    async with uow:
        loan = await uow.loans.get(loan.id, for_update=True)
        fine, _ = await bring_overdue_fine_up_to_date(uow, loan, now=now, actor=cmd.actor.user, currency=currency)
        loan.return_copy(now=now, fine=fine)
        await uow.loans.save(loan)
        if waiting is not None:
            hold = await uow.holds.get(waiting.id)
            if hold.status == HoldStatus.WAITING:
                hold.make_ready(loan.copy, now=now)
            else:  # cancelled meanwhile: the copy sits on the shelf for nobody; the reconciler releases it
                hold.copy, hold.shelf_released = loan.copy, False
            await uow.holds.save(hold)
        await uow.requests.remember(cmd.request_id, "ReturnLoan", loan.name)
        await uow.commit()
    return loan
