"""A loan whose copy will not come back: declared lost by staff (Koha's lost status, Evergreen's Mark Lost),
and found later.

Pure. The declaration is a saga like the return (app/losing.py): its note (`return_started_at` with
`lost_fee`) is committed before the catalog is asked to put the copy LOST, then the loan ends LOST, charged a
LOST_ITEM fine, its overdue fine frozen at that day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from services.loans.domain.fines import Fine
from services.loans.domain.loan_record import LoanStatus
from services.loans.domain.loans import Loan
from services.loans.domain.money import ZERO
from services.support.runtime.errors import FailedPrecondition, InvalidArgument
from services.support.runtime.events import DomainEvent

FOUND_REASON = "found"
"""The reason on the waiver (and refund) of the LOST_ITEM fine of a copy found (Koha's RefundLostOnReturn)."""


@dataclass(frozen=True, kw_only=True)
class LoanDeclaredLost(DomainEvent):
    loan: Loan
    lost_item_fine: Fine | None
    """None when the declaration charged nothing."""
    overdue_fine: Fine | None
    """The overdue fine brought up to the declaration, if any: it grows no more."""
    reason: str
    declared_by: str


@dataclass(frozen=True, kw_only=True)
class LostLoanFound(DomainEvent):
    loan: Loan
    lost_item_fine: Fine | None
    found_by: str


def begin_declaring_lost(loan: Loan, now: datetime, *, fee: Decimal, reason: str) -> None:
    """Note that the copy is being declared lost, with what it charges (the saga's record, kept before the
    catalog is asked): whoever finds it unfinished can complete it. Refused while a return is under way (the
    copy is in hand)."""
    loan.ensure_active()
    if loan.return_started_at is not None and loan.lost_fee is None:
        raise FailedPrecondition(f"{loan.name} is being returned", reason="LOAN_BEING_RETURNED")
    if not reason.strip():
        raise InvalidArgument.field("reason", "say why the copy is declared lost")
    if fee < ZERO:
        raise InvalidArgument.field("amount", "must not be negative")
    loan.return_started_at = now
    loan.lost_fee, loan.lost_reason = fee, reason.strip()
    loan.updated_at = now


def declare_lost(
    loan: Loan, *, now: datetime, lost_item_fine: Fine | None, overdue_fine: Fine | None, actor: str
) -> None:
    """The catalog has the copy LOST: the loan ends LOST at `now` (its overdue days counted to then, no more),
    charged `lost_item_fine`; its patron's loan no longer counts nor blocks as overdue."""
    if not loan.being_declared_lost:
        raise FailedPrecondition(f"{loan.name} is not active", reason="LOAN_NOT_ACTIVE")
    loan.status = LoanStatus.LOST
    loan.returned_at = now
    loan.lost_fine = lost_item_fine.name if lost_item_fine is not None else ""
    loan.fine = overdue_fine.name if overdue_fine is not None else ""  # its overdue fine, frozen as a return's is
    loan.updated_at = now
    loan.events.append(
        LoanDeclaredLost(
            occurred_at=now,
            loan=loan,
            lost_item_fine=lost_item_fine,
            overdue_fine=overdue_fine,
            reason=loan.lost_reason,
            declared_by=actor,
        )
    )


def found(loan: Loan, *, now: datetime, lost_item_fine: Fine | None, actor: str) -> None:
    """The copy declared lost came back to the desk (the catalog has put it back): the loan stays LOST, and its
    LOST_ITEM fine is withdrawn: the rest still owed waived ("found"), what was paid owed back to the patron
    (`loan.refund_due`, for the desk's answer)."""
    if loan.status != LoanStatus.LOST:
        raise FailedPrecondition(f"{loan.name} is not lost", reason="LOAN_NOT_LOST")
    if lost_item_fine is not None:
        loan.refund_due = lost_item_fine.withdraw(FOUND_REASON, now=now, actor=actor)
    loan.updated_at = now
    loan.events.append(LostLoanFound(occurred_at=now, loan=loan, lost_item_fine=lost_item_fine, found_by=actor))
