"""Declaring a loan's copy lost, and taking it back when it is found (Koha: the lost status closes the checkout
and charges the replacement cost, refunded when the item comes back; Evergreen: Items Out -> Mark Lost).

The declaration is a saga like the return (returning.py): its note (the fee and reason, with
`return_started_at`) is committed first, then the catalog puts the copy LOST (only from the loan that has it
out), then the loan ends LOST in one transaction with its overdue fine brought up to that day (it grows no more)
and the LOST_ITEM fine assessed. One that stopped half-way is finished by the reconciler when the catalog has
the copy LOST on the loan, or undone (the note dropped) when the catalog still has it out on the loan
(reconciling.py).

Found later, the copy is scanned at the desk (ReturnLoan by barcode): the LOST_ITEM fine is withdrawn (the rest
owed waived with reason "found", what was paid owed back and said in the answer for the desk to hand back), then
the catalog puts the copy back on the shelf or the hold shelf. In that
order: both steps repeat safely, and a scan repeated after the first step finds the copy still LOST and takes
the second, while the other order left a found copy whose fine nobody would waive.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, tzinfo

from services.loans.app.fining import bring_overdue_fine_up_to_date, closed_days_for
from services.loans.app.peers import Catalog
from services.loans.app.ports import LoansUnitOfWork
from services.loans.app.receiving import shelve_checked_in, trap_at_desk
from services.loans.app.saga import LoanOfStep, known_then_read
from services.loans.domain.actors import SYSTEM, Actor
from services.loans.domain.borrowing import CopyInfo
from services.loans.domain.fines import FINE, Fine, FineKind
from services.loans.domain.loan_record import LOAN, LoanStatus
from services.loans.domain.loans import Loan, visible
from services.loans.domain.losses import FOUND_REASON, begin_declaring_lost, declare_lost, found
from services.loans.domain.money import ZERO, parse_amount
from services.support.runtime.clock import Clock
from services.support.runtime.conflicts import REQUEST_IN_PROGRESS, retry_conflicts
from services.support.runtime.errors import Conflict, FailedPrecondition, InvalidArgument

log = logging.getLogger("athenaeum.loans")
_OPERATION = "DeclareLoanLost"
_FOUND = "FoundLostLoan"
"""The request ledger's operation under which a lost loan's copy found is recorded, once per loan."""


@dataclass(frozen=True, slots=True)
class DeclareLoanLost:
    loan_id: uuid.UUID
    amount: str
    reason: str
    request_id: uuid.UUID | None = None
    actor: Actor = SYSTEM


async def declare_loan_lost(
    cmd: DeclareLoanLost, *, uow: LoansUnitOfWork, clock: Clock, catalog: Catalog, currency: str, zone: tzinfo
) -> Loan:
    """End an active loan LOST: the catalog's copy LOST, the overdue fine frozen at today, a LOST_ITEM fine of
    `amount` (none for "0"); the patron's loan no longer counts nor blocks (`zone`: the library's days)."""
    cmd.actor.ensure_staff("declare copies lost")
    fee = parse_amount(cmd.amount, field_name="amount")
    if not cmd.reason.strip():
        raise InvalidArgument.field("reason", "say why the copy is declared lost")
    async with uow:
        if previous := await uow.requests.recall(cmd.request_id, _OPERATION):
            return await uow.loans.get(LOAN.parse_id(previous))
        loan = visible(await uow.loans.get(cmd.loan_id, for_update=True))
        begin_declaring_lost(loan, clock.now(), fee=fee, reason=cmd.reason)
        await uow.loans.save(loan)
        await uow.commit()
    checked_in = await catalog.check_in(copy=loan.copy, loan=loan.name, hold="", lost=True)
    if checked_in.status != "LOST" or checked_in.current_loan != loan.name:
        await _forget_note(loan, uow=uow, clock=clock)
        state = checked_in.status.lower().replace("_", " ")
        raise FailedPrecondition(
            f"the catalog has {loan.name}'s copy {loan.barcode} back ({state}): return the loan instead",
            reason="COPY_NOT_ON_LOAN",
        )
    current = known_then_read(loan)
    actor = cmd.actor.user or "system"
    return await retry_conflicts(
        lambda: _close(current, cmd.request_id, actor=actor, uow=uow, clock=clock, currency=currency, zone=zone)
    )


async def _forget_note(noted: Loan, *, uow: LoansUnitOfWork, clock: Clock) -> None:
    """The catalog no longer had the copy out on the loan (back on the shelf behind loans' back, which the
    reconciler reports): nothing is declared, the note is dropped."""
    async with uow:
        loan = await uow.loans.get(noted.id, for_update=True)
        if loan.being_declared_lost:
            loan.abandon_return(clock.now())
            await uow.loans.save(loan)
            await uow.commit()


async def _close(
    current: LoanOfStep,
    request_id: uuid.UUID | None,
    *,
    actor: str,
    uow: LoansUnitOfWork,
    clock: Clock,
    currency: str,
    zone: tzinfo,
) -> Loan:
    """The catalog has the copy LOST: end the loan so, unless finished meanwhile (the reconciler) or returned
    (the copy turned up at the desk: its return forgot the declaration)."""
    async with uow:
        loan = await current(uow)
        if loan.status == LoanStatus.LOST:
            return loan
        if not loan.being_declared_lost:
            raise FailedPrecondition(f"{loan.name} was returned meanwhile", reason="LOAN_NOT_ACTIVE")
        await finish_declaring_lost(loan, now=clock.now(), actor=actor, uow=uow, currency=currency, zone=zone)
        await uow.requests.remember(request_id, _OPERATION, loan.name)
        await uow.commit()
    return loan


async def finish_declaring_lost(
    loan: Loan, *, now: datetime, actor: str, uow: LoansUnitOfWork, currency: str, zone: tzinfo
) -> None:
    """Inside the caller's transaction: the overdue fine brought up to `now`, the LOST_ITEM fine assessed, the
    loan ended LOST (the reconciler passes the note's time: the patron is not charged for the delay)."""
    closed = await closed_days_for(loan, uow=uow, now=now)
    overdue, _ = await bring_overdue_fine_up_to_date(
        uow, loan, now=now, actor=actor, currency=currency, zone=zone, closed=closed
    )
    charge = None
    if loan.lost_fee is not None and loan.lost_fee > ZERO:
        charge = Fine.assess(
            patron=loan.patron,
            kind=FineKind.LOST_ITEM,
            amount=loan.lost_fee,
            currency=currency,
            now=now,
            actor=actor,
            loan=loan.name,
            description=f"lost: {loan.book_title or loan.barcode} ({loan.barcode}): {loan.lost_reason}"[:500],
            book=loan.book,
            book_language=loan.book_language if loan.book_title else "",
        )
        await uow.fines.add(charge)
    declare_lost(loan, now=now, lost_item_fine=charge, overdue_fine=overdue, actor=actor)
    await uow.loans.save(loan)


async def take_back_found(
    copy: CopyInfo,
    actor: Actor,
    *,
    branch: str = "",
    uow: LoansUnitOfWork,
    clock: Clock,
    catalog: Catalog,
    zone: tzinfo,
) -> Loan:
    """A copy the catalog has LOST on one of our loans is scanned at the desk (of `branch`): withdraw its
    LOST_ITEM fine ("found": the rest waived, what was paid owed back, `refund_due`), then put it back (set
    aside for the first in the queue who may have it: on the hold shelf, or in transit to the hold's pickup
    branch when it is another). Answered, as any return is, with the hold the copy went aside for and the
    branch to send it to, for the desk to say where it goes, and with the refund due."""
    async with uow.reading():
        loan = await uow.loans.get(LOAN.parse_id(copy.current_loan))
    if loan.status != LoanStatus.LOST:  # its declaration is still under way: the reconciler settles it
        raise Conflict(
            f"the copy {copy.barcode} is being declared lost on {loan.name}: retry in a minute",
            reason="LOAN_UNSETTLED",
        )
    loan = await _record_found(loan, actor.user or "system", uow=uow, clock=clock)
    trap, sending = await trap_at_desk(copy.book, copy.item_type, branch, uow=uow, clock=clock)
    checked_in = await catalog.check_in(copy=copy.name, loan=loan.name, hold=trap, in_transit=sending)
    return await shelve_checked_in(
        checked_in, at_desk=branch, committed=loan, uow=uow, clock=clock, catalog=catalog, zone=zone
    )


async def ensure_still_lost(loan: Loan, *, uow: LoansUnitOfWork, catalog: Catalog) -> None:
    """A return by the name of a LOST loan finds its copy only while the catalog has it LOST on that loan; once
    found (or put back by a cataloguer), and perhaps lent to another reader since, there is nothing to do:
    FAILED_PRECONDITION (LOAN_ALREADY_FOUND), never the copy's other loan to retry or to return."""
    copy = await catalog.lookup_copy(loan.barcode)
    if copy.status == "LOST" and copy.current_loan == loan.name:
        return
    async with uow.reading():
        charge = await uow.fines.get(FINE.parse_id(loan.lost_fine)) if loan.lost_fine else None
    when = loan.updated_at.date().isoformat()
    how = f"was found on {when}" if charge is None or charge.waive_reason == FOUND_REASON else "is back"
    raise FailedPrecondition(
        f"{loan.name} was declared lost and its copy {loan.barcode} {how}: nothing is out on this loan",
        reason="LOAN_ALREADY_FOUND",
        metadata={"loan": loan.name},
    )


async def _record_found(loan: Loan, actor: str, *, uow: LoansUnitOfWork, clock: Clock) -> Loan:
    """LostLoanFound and the waiver, once per loan (the request ledger under an id made of the loan's: a second
    scan, or another desk's at once, records nothing)."""
    now = clock.now()
    try:
        async with uow:
            await uow.requests.remember(uuid.uuid5(loan.id, _FOUND), _FOUND, loan.name)
            loan = await uow.loans.get(loan.id, for_update=True)
            charge = await uow.fines.get(FINE.parse_id(loan.lost_fine), for_update=True) if loan.lost_fine else None
            found(loan, now=now, lost_item_fine=charge, actor=actor)
            await uow.loans.save(loan)
            if charge is not None:
                _log_refund(charge, loan)
                await uow.fines.save(charge)
            await uow.commit()
    except Conflict as taken:
        if taken.reason != REQUEST_IN_PROGRESS:
            raise
    return loan


def _log_refund(charge: Fine, loan: Loan) -> None:
    if loan.refund_due > ZERO:
        log.info(
            "%s: the copy declared lost was found; %s paid of its LOST_ITEM fine %s is owed back to the patron",
            loan.name,
            loan.refund_due,
            charge.name,
        )
