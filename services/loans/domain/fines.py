"""Fines: what a patron owes, how it grows while a loan is overdue, and the audit trail of every change.

Pure: no I/O. Amounts are Decimal with two places. Every assessment, accrual, payment, waiver and refund adds a
FineEntry (who, when, how much, why), which the repository appends to the audit table; each is an event too
(an accrual's FineAccrued; a refund goes with the LostLoanFound of the copy found), for the mesh's audit trail.

What a fine owes is `amount - paid - waived`. A waiver forgives what is owed when it is given, not the overdue
days still to come (as Koha's write-off of an accruing fine): a waived overdue fine of a loan still out keeps
growing, and owes again (OUTSTANDING) for the days after the waiver, while `amount` stays the whole overdue
charge that the rule's cap bounds.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from services.loans.domain.money import CENTS, ZERO
from services.support.runtime.errors import FailedPrecondition, InvalidArgument, NotFound
from services.support.runtime.events import DomainEvent
from services.support.runtime.names import NamePattern
from services.support.runtime.versioning import Versioned

FINE = NamePattern("fines/{fine}")


class FineKind(StrEnum):
    OVERDUE = "OVERDUE"
    LOST_ITEM = "LOST_ITEM"
    DAMAGED_ITEM = "DAMAGED_ITEM"
    OTHER = "OTHER"


class FineStatus(StrEnum):
    OUTSTANDING = "OUTSTANDING"
    PAID = "PAID"
    WAIVED = "WAIVED"


@dataclass(frozen=True, slots=True)
class FineEntry:
    """One line of a fine's audit trail."""

    kind: str
    """ASSESSED, ACCRUED, PAYMENT, WAIVER or REFUND (what was paid, owed back: the charge was withdrawn)."""
    amount: Decimal
    actor: str
    at: datetime
    method: str = ""
    reason: str = ""


@dataclass(frozen=True, kw_only=True)
class FineAssessed(DomainEvent):
    fine: Fine
    book: str = ""
    """"books/{book}" of the fine's loan (the reader's notice names it); "" for a charge about no loan."""


@dataclass(frozen=True, kw_only=True)
class FineAccrued(DomainEvent):
    """An overdue fine grew (the audit trail's line for an ACCRUED entry)."""

    fine: Fine
    amount: Decimal
    accrued_by: str = ""
    """"users/{user}" whose return brought it up to date; "" for the system (the reconciler)."""


@dataclass(frozen=True, kw_only=True)
class FinePaid(DomainEvent):
    fine: Fine
    amount: Decimal
    method: str = ""
    """How it was paid, as the desk said ("cash", "card"): the cash-desk reconciliation reads it in the trail."""


@dataclass(frozen=True, kw_only=True)
class FineWaived(DomainEvent):
    fine: Fine
    waived_by: str


@dataclass(slots=True)
class Fine(Versioned):
    id: uuid.UUID
    patron: str
    kind: FineKind
    amount: Decimal
    currency: str
    created_at: datetime
    updated_at: datetime
    loan: str = ""
    paid: Decimal = ZERO
    waived: Decimal = ZERO
    """Forgiven so far, over every waiver (each one's amount, actor and reason is on the audit trail)."""
    refund_due: Decimal = ZERO
    """What was paid and is owed back to the patron, the charge being withdrawn (a lost copy found): the desk
    hands it back; part of `paid`, which stays what was paid."""
    status: FineStatus = FineStatus.OUTSTANDING
    description: str = ""
    book_language: str = ""
    """The language of the loan's book whose title `description` names ("" none, or not known)."""
    waive_reason: str = ""
    version: int = 1
    new_entries: list[FineEntry] = field(default_factory=list)
    events: list[DomainEvent] = field(default_factory=list)
    name: str = field(init=False, repr=False, compare=False)
    """fines/{id}, derived from the id once."""

    def __post_init__(self) -> None:
        self.name = FINE.format(self.id)
        if self.status == FineStatus.WAIVED and self.waived == ZERO and self.amount > self.paid:
            # Waived by a release from before waived amounts were kept (one may run again on this schema after a
            # rollback, past the migration that filled them in once): it forgave all that was owed then.
            self.waived = self.amount - self.paid

    @property
    def outstanding(self) -> Decimal:
        return self.amount - self.paid - self.waived

    @classmethod
    def assess(
        cls,
        *,
        patron: str,
        kind: FineKind,
        amount: Decimal,
        currency: str,
        now: datetime,
        actor: str,
        loan: str = "",
        description: str = "",
        book: str = "",
        book_language: str = "",
    ) -> Fine:
        """A new charge; staff charges must be positive (an overdue fine starts at its first chargeable day)."""
        if amount <= ZERO:
            raise InvalidArgument.field("fine.amount", "must be positive")
        fine = cls(
            id=uuid.uuid4(),
            patron=patron,
            kind=kind,
            amount=amount.quantize(CENTS),
            currency=currency,
            created_at=now,
            updated_at=now,
            loan=loan,
            description=description,
            book_language=book_language,
        )
        fine.new_entries.append(FineEntry("ASSESSED", fine.amount, actor, now, reason=description))
        fine.events.append(FineAssessed(occurred_at=now, fine=fine, book=book))
        return fine

    def accrue_to(self, amount: Decimal, *, now: datetime, actor: str) -> bool:
        """Bring an overdue fine up to `amount` (it only grows). A paid or waived fine owes the growth: a waiver
        forgave what was owed when it was given, not the days after it."""
        amount = amount.quantize(CENTS)
        if amount <= self.amount:
            return False
        grown = amount - self.amount
        self.new_entries.append(FineEntry("ACCRUED", grown, actor, now))
        self.amount = amount
        self.status = FineStatus.OUTSTANDING
        self._touch(now)
        by = actor if actor.startswith("users/") else ""
        self.events.append(FineAccrued(occurred_at=now, fine=self, amount=grown, accrued_by=by))
        return True

    def pay(self, amount: Decimal, *, now: datetime, actor: str, method: str = "") -> None:
        self._ensure_outstanding()
        if amount <= ZERO:
            raise InvalidArgument.field("amount", "must be positive")
        if amount > self.outstanding:
            raise InvalidArgument.field("amount", f"must be at most the {self.outstanding} still owed")
        self.paid += amount.quantize(CENTS)
        if self.outstanding == ZERO:
            self.status = FineStatus.PAID
        self._touch(now)
        self.new_entries.append(FineEntry("PAYMENT", amount, actor, now, method=method))
        self.events.append(FinePaid(occurred_at=now, fine=self, amount=amount, method=method))

    def waive(self, reason: str, *, now: datetime, actor: str) -> None:
        if not reason.strip():
            raise InvalidArgument.field("reason", "say why the fine is waived")
        self._ensure_outstanding()
        forgiven = self.outstanding
        self.waived += forgiven
        self.status = FineStatus.WAIVED
        self.waive_reason = reason.strip()
        self._touch(now)
        self.new_entries.append(FineEntry("WAIVER", forgiven, actor, now, reason=self.waive_reason))
        self.events.append(FineWaived(occurred_at=now, fine=self, waived_by=actor))

    def withdraw(self, reason: str, *, now: datetime, actor: str) -> Decimal:
        """The charge itself no longer stands (a lost copy found: Koha's RefundLostOnReturn, Evergreen's void on
        check-in): what is still owed is waived, and what was paid is owed back (a REFUND entry), whatever was
        paid. Returns the refund due now (none the second time)."""
        if self.status == FineStatus.OUTSTANDING and self.outstanding > ZERO:
            self.waive(reason, now=now, actor=actor)
        refund = self.paid - self.refund_due
        if refund > ZERO:
            self.refund_due += refund
            self._touch(now)
            self.new_entries.append(FineEntry("REFUND", refund, actor, now, reason=reason))
        return refund

    def _ensure_outstanding(self) -> None:
        if self.status != FineStatus.OUTSTANDING:
            raise FailedPrecondition(f"{self.name} is already {self.status.lower()}", reason="FINE_NOT_OUTSTANDING")

    def _touch(self, now: datetime) -> None:
        self.updated_at = now


class FineNotFound(NotFound):
    def __init__(self, name: str) -> None:
        super().__init__(name, f"{name} not found")
