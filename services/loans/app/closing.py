"""An account's close and the charges made at the same moment (finding NF3). The users service asks for the
patron's standing and then commits the close; a charge checks the account and then commits. Each could pass the
other's check in that window and leave a closed account owing.

They serialise here: the close's question (GetClosingStanding) counts what the patron still has out and owes
under the patron's lock and, when nothing (the close will go on), holds their charges for CHARGES_HELD; a
charge, under the same lock, is refused while a hold covers the moment it asked the users service about the
account (ACCOUNT_CLOSING, retry). The users service commits the close within the hold, or not at all; a charge
that asked after the hold sees what it committed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from services.loans.app.list_requests import FineFilter, NewestFirst, PageRequest
from services.loans.app.ports import LoansUnitOfWork
from services.loans.domain.fines import FineStatus
from services.support.runtime.clock import Clock
from services.support.runtime.errors import DependencyUnavailable
from services.support.runtime.names import check_reference

CHARGES_HELD = timedelta(seconds=10)
"""How long the close's question holds the patron's charges; the users service commits within half of it."""
_FIRST_ONLY: PageRequest[NewestFirst] = PageRequest(1, None, "closing")
"""What is owed is counted, not listed: the page's total and the sum."""


@dataclass(frozen=True, slots=True)
class GetClosingStanding:
    patron: str


@dataclass(frozen=True, slots=True)
class ClosingStanding:
    loans_out: int
    fines_outstanding: int
    amount_owed: Decimal
    charges_held_for: timedelta


async def closing_standing(cmd: GetClosingStanding, *, uow: LoansUnitOfWork, clock: Clock) -> ClosingStanding:
    """What the patron still has out and owes, counted under their lock; when nothing, their charges are held
    from now on (with something out or owed the close is refused: a charge meanwhile changes nothing)."""
    check_reference(cmd.patron, "users", field="name")
    async with uow:
        await uow.loans.lock_patron(cmd.patron)  # a charge in flight commits first, and is counted
        now = clock.now()
        standing = await uow.loans.standing(cmd.patron, item_type="*", now=now)
        owed, amount = await uow.fines.list_newest_first(
            FineFilter(cmd.patron, FineStatus.OUTSTANDING), page=_FIRST_ONLY
        )
        held = CHARGES_HELD if not (standing.active_loans or owed.total_size) else timedelta(0)
        if held:
            await uow.fines.hold_charges(cmd.patron, until=now + held)
        await uow.commit()
    return ClosingStanding(standing.active_loans, owed.total_size, amount, held)


async def ensure_charges_not_held(patron: str, asked_at: datetime, *, uow: LoansUnitOfWork) -> None:
    """Inside the charge's transaction, under the patron's lock: refused while a close's hold covers the
    moment the account was asked about (`asked_at`), since the close may be committed after that answer."""
    await uow.loans.lock_patron(patron)
    held_until = await uow.fines.charges_held_until(patron)
    if held_until is not None and held_until > asked_at:
        raise DependencyUnavailable(
            f"{patron} is being closed: no charge is taken until the close is settled; retry in a few seconds",
            reason="ACCOUNT_CLOSING",
            metadata={"patron": patron},
            retry_after=max((held_until - asked_at).total_seconds(), 1.0),
        )
