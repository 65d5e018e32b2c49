"""The circulation rules matrix: lending terms per patron category x item type, "*" as a wildcard.

Pure: no I/O. The most specific row wins (Koha's and Evergreen's circulation matrices work the same way):
exact category and type, then category with "*", then "*" with type, then the "*"/"*" default row.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field, fields, replace
from datetime import datetime, tzinfo
from decimal import Decimal

from services.loans.domain.calendar import NO_CLOSED_DAYS, ClosedDays, end_of_open_day_after
from services.loans.domain.codes import WILDCARD as WILDCARD  # the rules' wildcard, imported from here too
from services.loans.domain.codes import category_violation, item_type_violation, spelt_code
from services.loans.domain.money import CENTS, MAX_AMOUNT
from services.loans.domain.periods import MAX_PERIOD_DAYS, days_after, end_of_day_after
from services.support.runtime.errors import FailedPrecondition, FieldViolation, NotFound, collect_violations
from services.support.runtime.events import DomainEvent
from services.support.runtime.names import NamePattern
from services.support.runtime.versioning import Versioned

RULE = NamePattern("circulationRules/{circulation_rule}")


PERIODS = ("loan_period_days", "renewal_period_days", "grace_days", "hold_pickup_days")
"""The terms counted in days of the calendar (the others count loans, renewals and holds)."""


@dataclass(frozen=True, slots=True)
class RuleTerms:
    """The writable fields of a circulation rule."""

    patron_category: str
    item_type: str
    loan_period_days: int = 14
    max_renewals: int = 2
    renewal_period_days: int = 14
    max_loans: int = 5
    fine_per_day: Decimal = Decimal("0.00")
    grace_days: int = 0
    fine_cap: Decimal | None = None
    max_outstanding_fines: Decimal | None = None
    holds_allowed: bool = True
    max_holds: int = 5
    hold_pickup_days: int = 7
    hard_due_at: datetime | None = None

    def validated(self, *, now: datetime, earlier: RuleTerms | None = None, listed_item_type: str = "") -> RuleTerms:
        """Trimmed, upper-cased keys (codes.py); InvalidArgument naming every bad field. A hard due date kept
        unchanged from the `earlier` terms is not checked again: it was ahead when set, and issuing refuses it
        once passed (`ensure_lends_at`), while the rule's other terms stay editable. So are keys kept unchanged:
        a rule stored before codes were checked keeps the key it has and its terms can still be edited. So is
        `listed_item_type`, a code from before the rule that the catalog's list has (the caller asked it)."""
        category, item_type = spelt_code(self.patron_category), spelt_code(self.item_type)
        prefix = "circulation_rule."
        counts = {
            "loan_period_days": self.loan_period_days,
            "max_renewals": self.max_renewals,
            "renewal_period_days": self.renewal_period_days,
            "max_loans": self.max_loans,
            "grace_days": self.grace_days,
            "max_holds": self.max_holds,
            "hold_pickup_days": self.hold_pickup_days,
        }
        collect_violations(
            None
            if earlier is not None and category == earlier.patron_category
            else category_violation(category, prefix + "patron_category"),
            None
            if (earlier is not None and item_type == earlier.item_type) or item_type == listed_item_type
            else item_type_violation(item_type, prefix + "item_type"),
            None if self.loan_period_days > 0 else FieldViolation(prefix + "loan_period_days", "must be positive"),
            # Zero days would make a hold ready and expired at once, or a renewal that gains nothing.
            FieldViolation(prefix + "hold_pickup_days", "must be positive while holds are allowed")
            if self.hold_pickup_days == 0 and self.holds_allowed
            else None,
            FieldViolation(prefix + "renewal_period_days", "must be positive while renewals are allowed")
            if self.renewal_period_days == 0 and self.max_renewals > 0
            else None,
            *(
                FieldViolation(prefix + name, "must not be negative")
                for name, value in counts.items()
                if value < 0 and name != "loan_period_days"
            ),
            *(
                FieldViolation(prefix + name, f"must be at most {MAX_PERIOD_DAYS} (a century)")
                for name in PERIODS
                if counts[name] > MAX_PERIOD_DAYS
            ),
            None if earlier is not None and self.hard_due_at == earlier.hard_due_at else self._bad_hard_due(now),
        )
        return replace(self, patron_category=category, item_type=item_type)

    def _bad_hard_due(self, now: datetime) -> FieldViolation | None:
        """A hard due date not ahead would lend copies born overdue (fined for days before they were lent);
        one past a century would leave the calendar Python and Postgres share when reminders are computed."""
        name = "circulation_rule.hard_due_time"  # the API's field, which the admin typed
        if self.hard_due_at is None:
            return None
        if self.hard_due_at.tzinfo is None or self.hard_due_at <= now:
            return FieldViolation(name, "must be in the future (unset it for no hard due date)")
        if self.hard_due_at > days_after(now, MAX_PERIOD_DAYS):
            return FieldViolation(name, f"must be at most {MAX_PERIOD_DAYS} days (a century) ahead")
        return None

    def ensure_lends_at(self, now: datetime, zone: tzinfo) -> None:
        """HARD_DUE_DATE_PASSED when the library's day of the hard due date (in `zone`) has ended by `now`: a
        loan issued under these terms would be born overdue. A rule whose term has ended lends nothing until an
        admin moves or clears the date."""
        if self.hard_due_at is None:
            return
        ends = self.hard_due_end(zone) if self.hard_due_at.tzinfo is not None else None  # naive: no day of ours
        if ends is not None and ends > now:
            return
        raise FailedPrecondition(
            f"the hard due date of the {self.patron_category}/{self.item_type} rule has passed; nothing is lent "
            "under it until it is moved or cleared",
            reason="HARD_DUE_DATE_PASSED",
            metadata={"rule": f"{self.patron_category}/{self.item_type}"},
        )

    @property
    def specificity(self) -> int:
        """3 exact/exact, 2 category/*, 1 */type, 0 */*."""
        return 2 * (self.patron_category != WILDCARD) + (self.item_type != WILDCARD)

    def covers(self, patron_category: str, item_type: str) -> bool:
        return self.covers_category(patron_category) and self.item_type in (WILDCARD, item_type.upper())

    def covers_category(self, patron_category: str) -> bool:
        """Whether the rule may govern a loan of this patron category (of one item type or of all)."""
        return self.patron_category in (WILDCARD, patron_category.upper())

    def due_at(self, start: datetime, days: int, zone: tzinfo, closed: ClosedDays = NO_CLOSED_DAYS) -> datetime:
        """The end of the library's day (in `zone`) `days` days after `start`, or of the next open day when the
        library is `closed` that day, capped by the hard due date's. The hard due date is kept as the admin set
        it, closed or not: it is a term's end they chose (and can move), not a period that happened to end on a
        holiday; pushed past it, loans would outlive the term it caps."""
        due = end_of_open_day_after(start, days, zone, closed)
        hard_due = self.hard_due_end(zone)
        return min(due, hard_due) if hard_due is not None else due

    def hard_due_end(self, zone: tzinfo) -> datetime | None:
        """The end of the library's day (in `zone`) on which the hard due date falls: a hard due date is a date
        (Koha's, Evergreen's are), the loan due when that day ends, as any loan is. Kept to the instant, a date
        typed as midnight UTC made loans due at 20:00 the evening before in Santiago, fined 30 minutes later."""
        return end_of_day_after(self.hard_due_at, 0, zone) if self.hard_due_at is not None else None

    def overdue_fine(self, chargeable_days: int) -> Decimal:
        """fine_per_day per chargeable day, capped (by the rule, else by the largest amount a fine may be)."""
        ceiling = self.fine_cap if self.fine_cap is not None else MAX_AMOUNT
        return min((self.fine_per_day * max(chargeable_days, 0)).quantize(CENTS), ceiling)


@dataclass(slots=True)
class CirculationRule(Versioned):
    id: uuid.UUID
    terms: RuleTerms
    created_at: datetime
    updated_at: datetime
    version: int = 1
    events: list[DomainEvent] = field(default_factory=list)
    name: str = field(init=False, repr=False, compare=False)
    """circulationRules/{id}, derived from the id once."""

    def __post_init__(self) -> None:
        self.name = RULE.format(self.id)

    @property
    def is_default(self) -> bool:
        return self.terms.patron_category == WILDCARD and self.terms.item_type == WILDCARD

    @classmethod
    def create(cls, terms: RuleTerms, *, now: datetime, listed_item_type: str = "") -> CirculationRule:
        """`listed_item_type`: see RuleTerms.validated."""
        terms = terms.validated(now=now, listed_item_type=listed_item_type)
        rule = cls(id=uuid.uuid4(), terms=terms, created_at=now, updated_at=now)
        rule.events.append(CirculationRuleChanged(occurred_at=now, rule=rule))
        return rule

    def update(self, terms: RuleTerms, *, now: datetime, etag: str = "", listed_item_type: str = "") -> None:
        """New terms; applies to loans issued afterwards (loans keep the terms they were issued under)."""
        self.check_etag(etag)
        terms = terms.validated(now=now, earlier=self.terms, listed_item_type=listed_item_type)
        if self.is_default and (terms.patron_category, terms.item_type) != (WILDCARD, WILDCARD):
            raise FailedPrecondition("the */* default rule must stay */*", reason="DEFAULT_RULE_REQUIRED")
        previous, self.terms = self.terms, terms
        self.updated_at = now
        self.version += 1
        changed = tuple(name for name in _TERMS if getattr(terms, name) != getattr(previous, name))
        self.events.append(CirculationRuleChanged(occurred_at=now, rule=self, previous=previous, changed=changed))

    def delete(self, *, now: datetime, etag: str = "") -> None:
        self.check_etag(etag)
        if self.is_default:
            raise FailedPrecondition("the */* default rule cannot be deleted", reason="DEFAULT_RULE_REQUIRED")
        self.events.append(CirculationRuleChanged(occurred_at=now, rule=self, deleted=True))

    def follow_item_type(self, item_type: str, *, now: datetime, note: str) -> None:
        """The catalog renamed the rule's item type: the same terms, keyed by the new code (not validated: it
        is the catalog's list's, as the old one was). `note` says why in the audit trail."""
        previous, self.terms = self.terms, replace(self.terms, item_type=item_type)
        self.updated_at, self.version = now, self.version + 1
        self.events.append(
            CirculationRuleChanged(occurred_at=now, rule=self, previous=previous, changed=("item_type",), note=note)
        )

    def retire(self, *, now: datetime, note: str) -> None:
        """Deleted by the service, not an admin (its item type renamed onto a code with a rule of its own, or
        deleted from the catalog's list); `note` says why. Never the */* default row, which names no type."""
        self.events.append(CirculationRuleChanged(occurred_at=now, rule=self, deleted=True, note=note))


@dataclass(frozen=True, kw_only=True)
class CirculationRuleChanged(DomainEvent):
    rule: CirculationRule
    deleted: bool = False
    previous: RuleTerms | None = None
    """The terms before an update: the audit trail says what the changed ones were."""
    changed: tuple[str, ...] = ()
    """The terms an update changed (RuleTerms' field names)."""
    note: str = ""
    """Why, for a change the service made itself following the catalog's item types (empty for an admin's)."""


_TERMS = tuple(f.name for f in fields(RuleTerms))


def most_specific(rules: Iterable[CirculationRule], patron_category: str, item_type: str) -> CirculationRule:
    """The rule that governs this patron category and item type."""
    matching = [rule for rule in rules if rule.terms.covers(patron_category, item_type)]
    if not matching:
        raise NotFound("circulationRules/*", f"no circulation rule covers {patron_category}/{item_type}")
    return max(matching, key=lambda rule: rule.terms.specificity)


def own_rule_types(rules: Iterable[CirculationRule], patron_category: str) -> tuple[str, ...]:
    """The item types with a rule of their own for this category: their loans count against that rule's
    limit, not the category's `*` rule's (which governs the other types), so a patron under "5 books, 5 DVDs"
    rules is not refused a book for holding DVDs, nor lent books past 5 for the order they came in."""
    return tuple(
        sorted(
            {
                rule.terms.item_type
                for rule in rules
                if rule.terms.item_type != WILDCARD and rule.terms.patron_category in (patron_category, WILDCARD)
            }
        )
    )


def ordered(rules: Iterable[CirculationRule]) -> list[CirculationRule]:
    """Most specific first, then by category and type (the order ListCirculationRules shows)."""
    return sorted(rules, key=lambda r: (-r.terms.specificity, r.terms.patron_category, r.terms.item_type, r.id))


class RuleNotFound(NotFound):
    def __init__(self, name: str) -> None:
        super().__init__(name, f"{name} not found")
