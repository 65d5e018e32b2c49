"""A return by barcode that finds no ACTIVE loan of the copy here: why not, or, for a copy the catalog has out
on a loan this service has no record of, the way back to the shelf.

Such a loan's record was lost here (domain/unrecorded.py: a loans database restored from a backup). The catalog
keeps its copy ON_LOAN for ever then, and nothing else may move it: the desk's issue, a cataloguer's edit or
delete are refused while it circulates. The reconciler reports it and leaves it so: after a restore the copy is
most likely out with the patron who borrowed it after the backup, and checked in behind the desk's back it
would be offered to the queue (a hold made READY for a book not on the shelf) and lose the catalog's only trace
of the loan. So it is checked in when a librarian takes it back: its return by barcode, with the copy in hand.
Only when no loan of that name is recorded here in any state (an issue's PENDING record, a FAILED one whose copy
the reconciler puts back, a RETURNED one) and the copy went out longer ago than any issue can still be under way
(the saga timeout): no saga is then in flight that could still record it.

A copy moving home (sent home from another branch's hold shelf) handed in at a desk is received as the desk's
Receive would (coming_home.py), as Koha's and Evergreen's check-in receive a transfer (finding D10): the desk's
Return is what a librarian does with every book in a crate. There is no loan to answer, so the answer is the
refusal that says what was done: COPY_RECEIVED_HOME (back on the open shelf), COPY_RECEIVED_FOR_HOLD (set aside
for a hold: on the hold shelf, or to send on), or COPY_IN_TRANSIT_HOME (elsewhere: send it on). So is a copy in
transit for a hold (pulled from the open shelf, or sent from another branch): Koha's and Evergreen's check-in
receive it at its destination and route it on elsewhere, so the desk's Return does what its Receive would
(COPY_RECEIVED_FOR_HOLD, `came_home` false). The refusal is final, so a retry with the same request_id is
answered it again by the runtime (the receipt itself records no request: there is no loan to recall).
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import datetime, timedelta, tzinfo

from services.loans.app.coming_home import came_home, moving_home
from services.loans.app.losing import take_back_found
from services.loans.app.peers import Catalog
from services.loans.app.ports import LoansUnitOfWork
from services.loans.app.receiving import (
    COPY_NOT_HELD,
    ReceiveHoldCopy,
    receive_hold_copy,
    shelve_checked_in,
    trap_at_desk,
)
from services.loans.domain.actors import Actor
from services.loans.domain.borrowing import CopyInfo
from services.loans.domain.hold_record import HOLD, HoldStatus
from services.loans.domain.holds import Hold
from services.loans.domain.loan_record import LOAN, LoanStatus
from services.loans.domain.loans import Loan
from services.loans.domain.unrecorded import returned_unrecorded
from services.support.runtime.clock import Clock
from services.support.runtime.conflicts import REQUEST_IN_PROGRESS
from services.support.runtime.errors import Conflict, DependencyUnavailable, FailedPrecondition, NotFound

LOAN_UNSETTLED = "LOAN_UNSETTLED"
"""ReturnLoan's reason for a copy out in the catalog on a loan still being issued, or ended here and being put
back: the answer changes within the saga timeout, so it is a Conflict (not kept for the request_id)."""
COPY_RECEIVED_FOR_HOLD = "COPY_RECEIVED_FOR_HOLD"
"""ReturnLoan's reason for a copy moving home, handed in at a desk, that a hold took: received for that hold (READY
on the hold shelf here, or IN_TRANSIT: send it to `pickup_branch`); `came_home` "false" for a copy that was in transit
for a hold already (received as the desk's Receive receives it)."""


async def return_without_active_loan(
    barcode: str,
    actor: Actor,
    *,
    uow: LoansUnitOfWork,
    clock: Clock,
    catalog: Catalog,
    zone: tzinfo,
    saga_timeout: timedelta,
    branch: str = "",
) -> Loan:
    """Check in a copy out on an unrecorded loan (set aside for a hold as a return at a desk of `branch` does)
    and answer that loan, or a copy declared lost on a loan here, found (losing.py), and answer that loan
    (LOST); else say why nothing is out on `barcode`: NOT_FOUND for a barcode no copy has, FAILED_PRECONDITION
    (COPY_NOT_ON_LOAN) for a copy that is not on loan (the desk told the two apart by neither), ABORTED
    (LOAN_UNSETTLED) for one whose loan is still being settled."""
    try:
        copy = await catalog.lookup_copy(barcode)
    except NotFound:
        raise NotFound(
            f"copies/-?barcode={barcode}", f"no copy has barcode {barcode}", reason="BARCODE_NOT_FOUND"
        ) from None
    except DependencyUnavailable:
        raise NotFound(f"loans/-?barcode={barcode}", f"no loan is out on barcode {barcode}") from None
    if copy.status == "LOST" and LOAN.matches(copy.current_loan):  # declared lost on that loan, and found
        return await take_back_found(copy, actor, branch=branch, uow=uow, clock=clock, catalog=catalog, zone=zone)
    if moving_home(copy):
        await _received(copy, actor, branch=branch, uow=uow, clock=clock, catalog=catalog, zone=zone)
    if copy.in_transit and HOLD.matches(copy.current_hold):
        await _received_in_transit(copy, actor, branch=branch, uow=uow, clock=clock, catalog=catalog, zone=zone)
    if copy.status != "ON_LOAN":
        raise _not_on_loan(copy.barcode or barcode, copy.status)
    now = clock.now()
    await _ensure_unrecorded(copy, barcode, uow=uow, now=now, saga_timeout=saga_timeout)
    trap, sending = await trap_at_desk(copy.book, copy.item_type, branch, uow=uow, clock=clock)
    checked_in = await catalog.check_in(copy=copy.name, loan=copy.current_loan, hold=trap, in_transit=sending)
    returned = returned_unrecorded(copy, returned_by=actor.user, now=now)
    if not await _first_to_take_back(returned, uow=uow):
        return replace(returned, events=[])  # another desk's return, at once, checked it in and says so
    return await shelve_checked_in(
        checked_in, at_desk=branch, committed=returned, uow=uow, clock=clock, catalog=catalog, zone=zone
    )


async def _received(
    copy: CopyInfo, actor: Actor, *, branch: str, uow: LoansUnitOfWork, clock: Clock, catalog: Catalog, zone: tzinfo
) -> None:
    """Receive a copy moving home handed in at a desk of `branch`, as ReceiveHoldCopy does, and refuse with what
    was done (COPY_RECEIVED_HOME, COPY_IN_TRANSIT_HOME from came_home; COPY_RECEIVED_FOR_HOLD here)."""
    if not await came_home(copy, branch, uow=uow, clock=clock, catalog=catalog, zone=zone):
        return  # no longer moving home (another desk took it in meanwhile): said as for any copy not on loan
    receipt = ReceiveHoldCopy(copy.barcode, branch, actor=actor)
    hold = await receive_hold_copy(receipt, uow=uow, clock=clock, catalog=catalog, zone=zone)
    raise _received_for(hold, copy.barcode, came_home=True)


async def _received_in_transit(
    copy: CopyInfo, actor: Actor, *, branch: str, uow: LoansUnitOfWork, clock: Clock, catalog: Catalog, zone: tzinfo
) -> None:
    """Receive a copy in transit for a hold handed in at a desk of `branch`, as ReceiveHoldCopy does: on the hold
    shelf at the pickup branch (READY), else sent on; refuse with what was done (COPY_RECEIVED_FOR_HOLD; or
    ReceiveHoldCopy's own answers for a hold passed over, or a copy sent home meanwhile). A copy whose hold ended
    meanwhile (released, nobody to take it) is said to be not on loan, as it is now."""
    receipt = ReceiveHoldCopy(copy.barcode, branch, actor=actor)
    try:
        hold = await receive_hold_copy(receipt, uow=uow, clock=clock, catalog=catalog, zone=zone)
    except FailedPrecondition as refusal:
        if refusal.reason != COPY_NOT_HELD:
            raise
        raise _not_on_loan(copy.barcode, str(refusal.metadata.get("status", ""))) from None
    raise _received_for(hold, copy.barcode, came_home=False)


def _received_for(hold: Hold, barcode: str, *, came_home: bool) -> FailedPrecondition:
    """What a Return that received the copy for `hold` answers (there is no loan to answer): where the copy goes."""
    ready = hold.status == HoldStatus.READY
    how = "came home and is" if came_home else "was received and is"
    return FailedPrecondition(
        f"the copy {barcode} {how} set aside for {hold.name}: "
        + ("put it on the hold shelf" if ready else f"send it to {hold.pickup_branch}"),
        reason=COPY_RECEIVED_FOR_HOLD,
        metadata={
            "barcode": barcode,
            "hold": hold.name,
            "status": hold.status.value,
            "pickup_branch": hold.pickup_branch,
            "patron": hold.patron,  # ReturnLoan is staff-only: the desk names whom the copy is for
            "came_home": "true" if came_home else "false",
        },
    )


def _not_on_loan(barcode: str, status: str) -> FailedPrecondition:
    state = status.lower().replace("_", " ") or "on the shelf"
    return FailedPrecondition(
        f"the copy {barcode} is not on loan: it is {state}",
        reason="COPY_NOT_ON_LOAN",
        metadata={"barcode": barcode, "status": status},
    )


_TAKEN_BACK = "ReturnUnrecordedLoan"
"""The request ledger's operation under which the return of an unrecorded loan is recorded, once per loan."""


async def _first_to_take_back(returned: Loan, *, uow: LoansUnitOfWork) -> bool:
    """Record the return of the unrecorded loan and its UnrecordedLoanReturned, unless a return of it at the
    same time did (False): each found the copy out on it, and the catalog's check-in of a loan already ended
    changes nothing, so without this the audit trail had one check-in per desk. The loan is recorded nowhere
    else, so the request ledger keeps its name under an id made of it: one insert wins."""
    try:
        async with uow:
            await uow.requests.remember(uuid.uuid5(returned.id, _TAKEN_BACK), _TAKEN_BACK, returned.name)
            uow.loans.announce(returned)
            await uow.commit()
    except Conflict as taken:
        if taken.reason != REQUEST_IN_PROGRESS:
            raise
        return False
    return True


_settling = {
    LoanStatus.PENDING: "whose issue is still under way: retry in a minute",
    LoanStatus.ACTIVE: "which is active here under another barcode: return the loan by its name",
    LoanStatus.FAILED: "whose issue failed here: the reconciler checks the copy in within minutes",
    LoanStatus.RETURNED: "which was returned here: the reconciler checks the copy in within minutes",
    LoanStatus.LOST: "which was declared lost here: the reconciler checks the copy in within minutes",
}
"""What happens to a copy out on a loan recorded here that no return by barcode finds, by the loan's status."""


async def _ensure_unrecorded(
    copy: CopyInfo, barcode: str, *, uow: LoansUnitOfWork, now: datetime, saga_timeout: timedelta
) -> None:
    """Refuse unless the copy's loan is recorded nowhere here and no issue can still be under way for it."""
    loan = copy.current_loan
    if not LOAN.matches(loan):  # the catalog lends to loans/{uuid} only
        raise FailedPrecondition(
            f"the copy {barcode} is out on a loan the catalog names {loan!r}, not a loan of this service",
            reason="COPY_NOT_ON_LOAN",
        )
    async with uow.reading():
        recorded = await uow.loans.statuses([loan])
    retry_after = saga_timeout.total_seconds()
    if loan in recorded:
        raise Conflict(
            f"the copy {barcode} is out in the catalog on {loan}, {_settling[recorded[loan][0]]}",
            reason=LOAN_UNSETTLED,
            retry_after=retry_after,
        )
    if copy.changed_at is None or copy.changed_at > now - saga_timeout:
        raise Conflict(
            f"the copy {barcode} is out in the catalog on {loan}, which is not recorded here: an issue may still "
            "be under way; retry in a minute",
            reason=LOAN_UNSETTLED,
            retry_after=retry_after,
        )
