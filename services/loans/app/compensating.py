"""The issue saga given up (issuing.py): its failure recorded first (FAILED), from then on the reconciler knows what to
undo, then the copy checked back in (compensation), now or by the reconciler, which also finds the copy the catalog
may have out on a loan whose saga stopped (reconciling.py).
"""

from __future__ import annotations

import uuid

from services.loans.app.peers import Catalog
from services.loans.app.ports import LoansUnitOfWork
from services.loans.domain.hold_record import HOLD, HoldStatus
from services.loans.domain.loan_record import LoanStatus
from services.loans.domain.loans import Loan
from services.support.runtime.clock import Clock
from services.support.runtime.errors import DependencyUnavailable, FailedPrecondition, NotFound


async def give_up(loan_id: uuid.UUID, reason: str, *, uow: LoansUnitOfWork, clock: Clock, copy_out: bool) -> None:
    """Record the saga's failure first: from here on the reconciler knows what to undo."""
    async with uow:
        loan = await uow.loans.get(loan_id, for_update=True)
        if loan.status == LoanStatus.PENDING:
            loan.fail(reason, now=clock.now(), copy_out=copy_out)
            await uow.loans.save(loan)
            await uow.commit()


async def compensate(loan_id: uuid.UUID, copy: str, *, uow: LoansUnitOfWork, clock: Clock, catalog: Catalog) -> bool:
    """Check the copy back in for a FAILED loan (set aside again if it was held: on the hold shelf, or in transit
    for a hold not yet READY); False if the catalog cannot be reached now (the reconciler tries again)."""
    async with uow.reading():
        loan = await uow.loans.get(loan_id)
        hold = await uow.holds.get(HOLD.parse_id(loan.hold)) if loan.hold and not loan.compensated else None
    if loan.compensated:
        return True
    if copy:
        in_transit = hold is not None and hold.status == HoldStatus.IN_TRANSIT
        try:
            await catalog.check_in(copy=copy, loan=loan.name, hold=loan.hold, in_transit=in_transit)
        except DependencyUnavailable:
            return False
        except (FailedPrecondition, NotFound):
            pass  # the copy is not out on this loan: nothing to undo
    async with uow:
        loan = await uow.loans.get(loan_id, for_update=True)
        loan.mark_compensated(clock.now())
        await uow.loans.save(loan)
        await uow.commit()
    return True


async def find_copy_out_on(loan: Loan, *, catalog: Catalog) -> str:
    """The copy the catalog has out on this loan, if any ("" when none)."""
    if loan.copy:
        return loan.copy
    if loan.requested_copy:
        candidates = [await catalog.get_copy(loan.requested_copy)]
    elif loan.barcode:
        candidates = [await catalog.lookup_copy(loan.barcode)]
    else:
        candidates = await catalog.copies_of(loan.book)
    return next((copy.name for copy in candidates if copy.current_loan == loan.name), "")
