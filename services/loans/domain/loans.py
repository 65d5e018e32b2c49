"""The loan aggregate, its events and who may see it.

Pure: no I/O, no grpc, no sqlalchemy. A loan is PENDING while the issue saga runs (it is the saga's log:
the catalog step is recorded before it is taken), ACTIVE once the copy is out, RETURNED, or FAILED when
the saga gave up (then `compensated` says whether the copy has been put back).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from services.loans.domain.borrowing import CopyInfo
from services.loans.domain.fines import Fine
from services.loans.domain.money import ZERO
from services.loans.domain.rules import CirculationRule, RuleTerms
from services.support.runtime.errors import FailedPrecondition, InvalidArgument, NotFound
from services.support.runtime.events import DomainEvent
from services.support.runtime.names import NamePattern
from services.support.runtime.versioning import Versioned

DAY = timedelta(days=1)
LOAN = NamePattern("loans/{loan}")


class LoanStatus(StrEnum):
    PENDING = "PENDING"
    ACTIVE = "ACTIVE"
    RETURNED = "RETURNED"
    FAILED = "FAILED"


VISIBLE = (LoanStatus.ACTIVE, LoanStatus.RETURNED)
"""The loans clients see: a PENDING or FAILED loan is only the issue saga's record."""


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


@dataclass(frozen=True, kw_only=True)
class LoanDueSoon(DomainEvent):
    loan: Loan


@dataclass(slots=True)
class Loan(Versioned):
    id: uuid.UUID
    patron: str
    status: LoanStatus
    created_at: datetime
    updated_at: datetime
    book: str = ""
    barcode: str = ""
    requested_copy: str = ""
    """The copy asked for (the held copy on the hold shelf), if the request named one."""
    request_id: uuid.UUID | None = None
    hold: str = ""
    copy: str = ""
    book_title: str = ""
    item_type: str = ""
    issued_at: datetime | None = None
    due_at: datetime | None = None
    returned_at: datetime | None = None
    renewal_count: int = 0
    rule: str = ""
    terms: RuleTerms | None = None
    """The rule's terms when issued: later rule changes apply to new loans only."""
    issued_by: str = ""
    compensated: bool = True
    failure_reason: str = ""
    overdue_notified_days: int = 0
    due_soon_notified: bool = False
    version: int = 1
    events: list[DomainEvent] = field(default_factory=list)
    name: str = field(init=False, repr=False, compare=False)
    """loans/{id}, derived from the id once."""

    def __post_init__(self) -> None:
        self.name = LOAN.format(self.id)

    @property
    def max_renewals(self) -> int:
        return self.terms.max_renewals if self.terms else 0

    @classmethod
    def begin(
        cls,
        *,
        patron: str,
        book: str,
        barcode: str,
        requested_copy: str,
        hold: str,
        request_id: uuid.UUID | None,
        issued_by: str,
        now: datetime,
    ) -> Loan:
        """The saga's first record: nothing is checked out yet."""
        if not book and not barcode:
            raise InvalidArgument.field("item", "give a barcode or a book")
        return cls(
            id=uuid.uuid4(),
            patron=patron,
            status=LoanStatus.PENDING,
            created_at=now,
            updated_at=now,
            book=book,
            barcode=barcode,
            requested_copy=requested_copy,
            hold=hold,
            request_id=request_id,
            issued_by=issued_by,
            compensated=False,
        )

    def activate(self, copy: CopyInfo, *, rule: CirculationRule, book_title: str, now: datetime) -> None:
        """The catalog lent us the copy: the loan starts, due by the rule (capped by its hard due date)."""
        self._touch(now)
        self.status = LoanStatus.ACTIVE
        self.copy, self.book, self.barcode, self.item_type = copy.name, copy.book, copy.barcode, copy.item_type
        self.book_title = book_title
        self.rule, self.terms = rule.name, rule.terms
        self.issued_at = now
        self.due_at = rule.terms.due_at(now, rule.terms.loan_period_days)
        self.compensated = True
        self.events.append(LoanIssued(occurred_at=now, loan=self))

    def fail(self, reason: str, *, now: datetime, copy_out: bool) -> None:
        """The saga gives up; `copy_out` when the catalog may still have the copy out on this loan."""
        self._touch(now)
        self.status = LoanStatus.FAILED
        self.failure_reason = reason
        self.compensated = not copy_out

    def mark_compensated(self, now: datetime) -> None:
        self._touch(now)
        self.compensated = True

    def days_past_due(self, now: datetime) -> int:
        if self.status != LoanStatus.ACTIVE or self.due_at is None or now <= self.due_at:
            return 0
        return (now - self.due_at) // DAY

    def is_overdue(self, now: datetime) -> bool:
        return self.status == LoanStatus.ACTIVE and self.due_at is not None and now > self.due_at

    def overdue_days(self, now: datetime) -> int:
        """Whole days past due after the grace days: the days a fine is charged for."""
        grace = self.terms.grace_days if self.terms else 0
        return max(self.days_past_due(now) - grace, 0)

    def overdue_fine(self, now: datetime) -> Decimal:
        return self.terms.overdue_fine(self.overdue_days(now)) if self.terms else ZERO

    def renew(self, *, now: datetime, others_waiting: bool) -> None:
        """Extend by the renewal period from now, within the rule's limits."""
        self.ensure_active()
        terms = self.terms or RuleTerms("*", "*")
        if self.renewal_count >= terms.max_renewals:
            raise FailedPrecondition(
                f"{self.name} was renewed {self.renewal_count} time(s), the limit is {terms.max_renewals}",
                reason="RENEWAL_LIMIT_REACHED",
            )
        if self.overdue_days(now) > 0:
            raise FailedPrecondition(f"{self.name} is overdue; return it first", reason="LOAN_OVERDUE")
        if others_waiting:
            raise FailedPrecondition("other patrons are waiting for this book", reason="HOLDS_WAITING")
        assert self.due_at is not None
        new_due = terms.due_at(now, terms.renewal_period_days)
        if terms.hard_due_at is not None and new_due <= self.due_at:
            raise FailedPrecondition(
                f"{self.name} cannot be due later than the rule's hard due date", reason="HARD_DUE_DATE_REACHED"
            )
        previous, self.due_at = self.due_at, max(new_due, self.due_at)
        self.renewal_count += 1
        self.due_soon_notified = False
        self._touch(now)
        self.events.append(LoanRenewed(occurred_at=now, loan=self, previous_due_at=previous))

    def return_copy(self, *, now: datetime, fine: Fine | None) -> None:
        if self.status == LoanStatus.RETURNED:
            raise FailedPrecondition(f"{self.name} was already returned", reason="LOAN_ALREADY_RETURNED")
        self.ensure_active()
        overdue_days = self.overdue_days(now)
        self.status = LoanStatus.RETURNED
        self.returned_at = now
        self._touch(now)
        self.events.append(LoanReturned(occurred_at=now, loan=self, overdue_days=overdue_days, fine=fine))

    def note_overdue(self, now: datetime, *, every_days: int) -> bool:
        """Announce LoanOverdue on the first overdue day, then every `every_days` days."""
        days = self.days_past_due(now)
        if days < 1 or (self.overdue_notified_days and days - self.overdue_notified_days < every_days):
            return False
        self.overdue_notified_days = days
        self._touch(now)
        self.events.append(LoanOverdue(occurred_at=now, loan=self, overdue_days=days))
        return True

    def note_due_soon(self, now: datetime, *, within: timedelta) -> bool:
        if self.status != LoanStatus.ACTIVE or self.due_soon_notified or self.due_at is None:
            return False
        if not now < self.due_at <= now + within:
            return False
        self.due_soon_notified = True
        self._touch(now)
        self.events.append(LoanDueSoon(occurred_at=now, loan=self))
        return True

    def ensure_active(self) -> None:
        if self.status != LoanStatus.ACTIVE:
            raise FailedPrecondition(f"{self.name} is not active", reason="LOAN_NOT_ACTIVE")

    def _touch(self, now: datetime) -> None:
        self.updated_at = now


class LoanNotFound(NotFound):
    def __init__(self, name: str) -> None:
        super().__init__(name, f"{name} not found")


def visible(loan: Loan) -> Loan:
    """The loan as clients may see it: NOT_FOUND for a saga's PENDING or FAILED record."""
    if loan.status not in VISIBLE:
        raise LoanNotFound(loan.name)
    return loan
