"""Why a copy scanned at the desk could not be lent (IssueLoan's COPY_NOT_AVAILABLE, the catalog's refusal): the
copy's status, and when it is set aside for a hold, which hold, for whom, where and until when (finding D14: the
desk could only say "on loan, reserved, lost or damaged"). A copy picked from the wrong slot of the hold shelf is
the daily case; Koha's check-out warns "Item is on hold for <patron>". IssueLoan is staff-only, so the hold's
patron is said: the desk swaps the copy for the right one.
"""

from __future__ import annotations

from services.loans.app.peers import Catalog
from services.loans.app.ports import LoansUnitOfWork
from services.loans.domain.borrowing import CopyInfo
from services.loans.domain.hold_record import HOLD
from services.loans.domain.holds import Hold
from services.loans.domain.loans import Loan
from services.support.runtime.errors import DomainError, FailedPrecondition, NotFound

COPY_NOT_AVAILABLE = "COPY_NOT_AVAILABLE"


async def explained(
    refusal: FailedPrecondition, loan: Loan, *, uow: LoansUnitOfWork, catalog: Catalog
) -> FailedPrecondition:
    """`refusal` with the copy's status and its hold in `metadata` when it is COPY_NOT_AVAILABLE for a named copy;
    as it is when that cannot be read now (the refusal stands, what it says is only for the desk)."""
    if refusal.reason != COPY_NOT_AVAILABLE or not (loan.requested_copy or loan.barcode):
        return refusal
    try:
        named = loan.requested_copy
        copy = await (catalog.get_copy(named) if named else catalog.lookup_copy(loan.barcode))
        hold = await _hold_of(copy, uow=uow)
    except DomainError:  # unreachable, gone meanwhile: said as the catalog said it
        return refusal
    metadata = {**refusal.metadata, "copy": copy.name, "status": copy.status}
    message = refusal.message
    if hold is not None:
        metadata |= {"hold": hold.name, "hold_status": hold.status.value, "patron": hold.patron}
        metadata |= {"pickup_branch": hold.pickup_branch} if hold.pickup_branch else {}
        metadata |= {"expire_time": hold.expire_at.isoformat()} if hold.expire_at else {}
        message = f"{message}: set aside for {hold.name} of {hold.patron}"
    return FailedPrecondition(message, reason=refusal.reason, metadata=metadata, lasting=refusal.lasting)


async def _hold_of(copy: CopyInfo, *, uow: LoansUnitOfWork) -> Hold | None:
    """The active hold `copy` is set aside for, as loans has it; None for a copy held for none."""
    if not HOLD.matches(copy.current_hold):
        return None
    async with uow.reading():
        try:
            hold = await uow.holds.get(HOLD.parse_id(copy.current_hold))
        except NotFound:
            return None
    return hold if hold.set_aside and hold.copy == copy.name else None
