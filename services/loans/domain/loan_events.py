"""What a loan records as it moves (loans.py): each becomes a loans event on JetStream (api/events.py), the audit
trail's record of the step, and some a notice to the reader (LoanIssued, LoanDueSoon, LoanOverdue, ...)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from services.support.runtime.events import DomainEvent

if TYPE_CHECKING:
    from services.loans.domain.fines import Fine
    from services.loans.domain.loans import Loan


@dataclass(frozen=True, kw_only=True)
class LoanIssued(DomainEvent):
    loan: Loan


@dataclass(frozen=True, kw_only=True)
class LoanReturned(DomainEvent):
    loan: Loan
    overdue_days: int
    fine: Fine | None = None
    """The overdue fine assessed or brought up to date on return, if any."""


@dataclass(frozen=True, kw_only=True)
class LoanRenewed(DomainEvent):
    loan: Loan
    previous_due_at: datetime


@dataclass(frozen=True, kw_only=True)
class LoanOverdue(DomainEvent):
    loan: Loan
    overdue_days: int
    step: int = 1
    """Which reminder of the schedule this is: 1 for the first."""
    chargeable_days: int = 0
    """The days its fine charges then (open days, after grace; `overdue_days` are calendar days)."""


@dataclass(frozen=True, kw_only=True)
class LoanDueSoon(DomainEvent):
    loan: Loan
    step: int = 1
    """Which reminder of the schedule this is: 1 for the first."""
    renewable: bool = False
    """A renewal could still extend it (Loan.renewable, as it was when announced)."""
