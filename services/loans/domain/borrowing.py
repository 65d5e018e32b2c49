"""Who may borrow: what the users service says about a patron (Eligibility), the loans service's own facts
about them (Standing), the library-wide limits (BorrowingPolicy), and the checks that combine them; and the
catalog's copies as the catalog reports them. Pure: no I/O."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from decimal import Decimal
from typing import NamedTuple

from services.loans.domain.rules import WILDCARD, CirculationRule, RuleTerms
from services.support.runtime.errors import FailedPrecondition
from services.support.runtime.names import NamePattern

BOOK = NamePattern("books/{book}")
"""The catalog's book names. Its ids are UUIDs: a malformed name is refused here, naming the request's
field, before any call to the catalog."""


class BookTitle(NamedTuple):
    """A book's title and its language (a BCP 47 tag, "" not known), as the catalog has them."""

    title: str
    language: str = ""


@dataclass(frozen=True, slots=True)
class CopyInfo:
    """A catalog copy as the catalog reports it."""

    name: str
    book: str
    barcode: str
    item_type: str
    status: str
    current_loan: str = ""
    current_hold: str = ""
    branch: str = ""
    book_title: str = ""
    """The book's title when the catalog's answer carries it (a check-out's does); "" when it does not."""
    book_language: str = ""
    """The book's language, with `book_title` ("" not known)."""
    changed_at: datetime | None = None
    """When the catalog last changed the copy (None: not said); for a copy on loan, no earlier than its check-out."""
    call_number: str = ""
    shelf_location: str = ""
    sent: bool = False
    """In transit for its hold because a desk checked it in and sent it to the pickup branch (a return at another
    branch), not set aside on the open shelf to pull."""
    version: int = 0
    """The catalog's version of the copy (the number in its etag, bumped by every change): orders what loans
    hears of it (0: not said)."""
    not_for_loan: bool = False
    """Of an item type not for loan (a reference copy), as the catalog's list of item types says now: never lent
    nor set aside for a hold (False when the catalog does not say)."""
    item_type_renamed_at: datetime | None = None
    """When its item type took its code (a rename in the catalog); None: never renamed, or not said. The copy is
    lent only by rules that have followed that rename (RulesBehindCatalog)."""

    @property
    def in_collection(self) -> bool:
        """Not withdrawn: lent, held, lost or damaged, it may come back to the shelf."""
        return self.status != "WITHDRAWN"

    @property
    def held(self) -> bool:
        """Set aside for a hold (`current_hold`): on the hold shelf, or in transit to it."""
        return bool(self.current_hold) and self.status in ("ON_HOLD_SHELF", "IN_TRANSIT")

    @property
    def in_transit(self) -> bool:
        """Set aside for a hold and not yet on the hold shelf of its pickup branch."""
        return self.held and self.status == "IN_TRANSIT"


@dataclass(frozen=True, slots=True)
class Eligibility:
    """What the users service says about a patron."""

    patron: str
    eligible: bool
    patron_category: str
    reasons: tuple[str, ...] = ()
    home_branch: str = ""
    closed: bool = False
    """The account was closed (DEACTIVATED): nothing more is charged to it."""


@dataclass(frozen=True, slots=True)
class Standing:
    """The loans service's own facts about a patron, read under the patron's lock."""

    active_loans: int
    overdue_loans: int
    outstanding_fines: Decimal
    ready_holds: int = 0
    """Holds with a copy set aside (READY, or IN_TRANSIT): a copy the desk may lend only for its hold."""
    active_holds: int | None = None
    """Holds not ended (WAITING, IN_TRANSIT, READY), on any title; None when not counted. Under the patron's
    lock (a hold is placed under it too), none means an issue has no hold of theirs to fill: not looked for."""


@dataclass(frozen=True, slots=True)
class BorrowingPolicy:
    """Library-wide terms (settings): limits that rules may tighten, and the library's time zone."""

    max_overdue_loans: int = 0
    max_outstanding_fines: Decimal | None = None
    time_zone: tzinfo = UTC
    """Where the library's days begin and end: a loan (or renewal) of N days is due at the end of the Nth."""


NO_LIMITS = BorrowingPolicy()
"""The library-wide terms when none are given: no overdue loan allowed, fines limited by the rules only."""


def ensure_eligible(eligibility: Eligibility, *, patron: str, what: str) -> None:
    """PATRON_NOT_ELIGIBLE when the users service says `patron` may not `what` (renew, place holds)."""
    if not eligibility.eligible:
        reasons = "; ".join(eligibility.reasons) or "account not active"
        raise FailedPrecondition(f"{patron} may not {what}: {reasons}", reason="PATRON_NOT_ELIGIBLE")


def ensure_may_borrow(eligibility: Eligibility, standing: Standing, rule: RuleTerms, policy: BorrowingPolicy) -> None:
    """FAILED_PRECONDITION with a precise reason when the patron may not take one more loan."""
    if not eligibility.eligible:
        reasons = "; ".join(eligibility.reasons) or "account not active"
        raise FailedPrecondition(
            f"{eligibility.patron} may not borrow: {reasons}",
            reason="PATRON_NOT_ELIGIBLE",
            metadata={"patron": eligibility.patron, "reasons": reasons},
        )
    ensure_in_good_standing(eligibility.patron, standing, rule, policy)
    if rule.max_loans == 0:
        raise not_for_loan(eligibility.patron_category, rule)
    if standing.active_loans >= rule.max_loans:
        raise FailedPrecondition(
            f"{eligibility.patron} already has {standing.active_loans} loan(s) under the "
            f"{rule.patron_category}/{rule.item_type} rule, its limit is {rule.max_loans}",
            reason="LOAN_LIMIT_REACHED",
            metadata={"active_loans": str(standing.active_loans), "max_loans": str(rule.max_loans)},
        )


def ensure_in_good_standing(
    patron: str, standing: Standing, rule: RuleTerms, policy: BorrowingPolicy, *, overdue_counts: bool = True
) -> None:
    """FINES_LIMIT_EXCEEDED past the fines a patron may owe, TOO_MANY_OVERDUE_LOANS past the overdue loans
    they may have (unless `overdue_counts` is False): what blocks a loan blocks a hold and, for fines, a
    renewal too (Evergreen's penalties block circulation, renewals and holds; Koha's fine limit blocks holds
    and renewals): a hold was placed and its copy trapped for a patron the desk then refused."""
    limit = rule.max_outstanding_fines if rule.max_outstanding_fines is not None else policy.max_outstanding_fines
    if limit is not None and standing.outstanding_fines > limit:
        raise FailedPrecondition(
            f"{patron} owes {standing.outstanding_fines}, more than the {limit} allowed",
            reason="FINES_LIMIT_EXCEEDED",
            metadata={"outstanding": str(standing.outstanding_fines), "limit": str(limit)},
        )
    if overdue_counts and standing.overdue_loans > policy.max_overdue_loans:
        raise FailedPrecondition(
            f"{patron} has {standing.overdue_loans} overdue loan(s)",
            reason="TOO_MANY_OVERDUE_LOANS",
            metadata={"overdue_loans": str(standing.overdue_loans)},
        )


def not_for_loan(patron_category: str, rule: RuleTerms) -> FailedPrecondition:
    """NOT_FOR_LOAN: the rule lends nothing (max_loans 0, e.g. reference copies, for use in the library)."""
    what = (
        f"{rule.item_type} items are not for loan to {patron_category} patrons"
        if rule.item_type != WILDCARD
        else f"{patron_category} patrons may borrow nothing"
    )
    return FailedPrecondition(
        f"{what} (the {rule.patron_category}/{rule.item_type} rule lends none)",
        reason="NOT_FOR_LOAN",
        metadata={"patron_category": patron_category, "item_type": rule.item_type},
    )


def may_borrow_any_item_type(
    eligibility: Eligibility, standing: Standing, rules: Iterable[CirculationRule], policy: BorrowingPolicy
) -> bool:
    """Whether the patron may take one more loan whatever the item type of the copy turns out to be, with
    `standing` counting all their active loans: a rule covers every item type for their category, and every
    rule that may govern the loan lets them borrow. All loans are at least as many as one item type's, so this
    never lets through what the check by the copy's own type (which still follows) would refuse."""
    governing = [rule.terms for rule in rules if rule.terms.covers_category(eligibility.patron_category)]
    if not any(terms.item_type == WILDCARD for terms in governing):
        return False
    try:
        for terms in governing:
            ensure_may_borrow(eligibility, standing, terms, policy)
    except FailedPrecondition:
        return False
    return True
