"""Which item types a patron category may borrow or hold, by the circulation rules matrix. Pure: no I/O.

The catalog's item types are free text, so the set a category may take is open: every type but those
whose own rule refuses (when the category's "*" row allows), or only those whose own rule allows (when it
refuses). `ItemTypes` says which, so the catalog can pick a copy of one of them (a check-out by book, a
copy put on the hold shelf) and never one that the desk would then refuse.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass

from services.loans.domain.rules import WILDCARD, CirculationRule, RuleTerms, most_specific
from services.support.runtime.errors import FailedPrecondition


@dataclass(frozen=True, slots=True)
class ItemTypes:
    """A set of item types: `only` these when given, else any type but `excluded`."""

    only: frozenset[str] | None = None
    excluded: frozenset[str] = frozenset()

    def admits(self, item_type: str) -> bool:
        item_type = item_type.upper()
        return item_type not in self.excluded and (self.only is None or item_type in self.only)

    @property
    def admits_none(self) -> bool:
        return self.only is not None and not self.only - self.excluded

    def __and__(self, other: ItemTypes) -> ItemTypes:
        """The types both admit."""
        if self.only is None or other.only is None:
            only = self.only if other.only is None else other.only
        else:
            only = self.only & other.only
        excluded = self.excluded | other.excluded
        return ItemTypes(None if only is None else only - excluded, frozenset() if only is not None else excluded)


ANY_ITEM_TYPE = ItemTypes()


def lends(terms: RuleTerms) -> bool:
    """Whether a copy under these terms may go out on loan at all (max_loans 0: for use in the library only)."""
    return terms.max_loans > 0


def lets_hold(terms: RuleTerms) -> bool:
    """Whether a copy under these terms may be put on the hold shelf: holds allowed, and it may then be lent."""
    return terms.holds_allowed and lends(terms)


def admitted(rules: Iterable[CirculationRule], patron_category: str, allows: Callable[[RuleTerms], bool]) -> ItemTypes:
    """The item types whose governing rule, for this patron category, `allows`."""
    rules = list(rules)
    named = {r.terms.item_type for r in rules if r.terms.covers_category(patron_category)} - {WILDCARD}
    verdicts = {item_type: allows(most_specific(rules, patron_category, item_type).terms) for item_type in named}
    if allows(most_specific(rules, patron_category, WILDCARD).terms):
        return ItemTypes(excluded=frozenset(t for t, allowed in verdicts.items() if not allowed))
    return ItemTypes(only=frozenset(t for t, allowed in verdicts.items() if allowed))


def lendable(rules: Iterable[CirculationRule], patron_category: str) -> ItemTypes:
    return admitted(rules, patron_category, lends)


def holdable(rules: Iterable[CirculationRule], patron_category: str) -> ItemTypes:
    return admitted(rules, patron_category, lets_hold)


def holdable_by_every_category(rules: Iterable[CirculationRule]) -> ItemTypes:
    """The item types a copy of which may go on the hold shelf whoever the patron is (for a patron whose
    category is not known here: a copy of a type left out waits for the reconciler, which knows it by then)."""
    rules = list(rules)
    categories = {rule.terms.patron_category for rule in rules} | {WILDCARD}  # "*": a category no rule names
    found = ANY_ITEM_TYPE
    for category in categories:
        found &= holdable(rules, category)
    return found


@dataclass(frozen=True, slots=True)
class HoldTerms:
    """What a hold is placed under: the patron's holds allowed, and the days a copy waits on the shelf."""

    max_holds: int
    pickup_days: int


def hold_terms(
    rules: Iterable[CirculationRule],
    patron_category: str,
    item_types: Collection[str],
    *,
    not_for_loan: Collection[str] = (),
) -> HoldTerms:
    """The terms of a hold on a title whose copies that may be lent are of `item_types` (the category's "*" row
    for a title without copies yet); HOLDS_NOT_ALLOWED when no copy of it may be held by this category, or when
    its only copies are of the `not_for_loan` types (reference copies: no copy could ever serve the hold, which
    would wait for ever and count against the patron's limit). With copies of several holdable types, the most
    generous limit and pickup window of theirs apply (the hold is served by whichever copy comes back first)."""
    if not_for_loan and not item_types:
        kinds = ", ".join(sorted(not_for_loan))
        raise FailedPrecondition(
            f"this title has only reference copies ({kinds}: not for loan, for use in the library): none can be held",
            reason="HOLDS_NOT_ALLOWED",
            metadata={"patron_category": patron_category, "item_types": kinds, "not_for_loan": "true"},
        )
    rules = list(rules)
    governing = [most_specific(rules, patron_category, item_type).terms for item_type in sorted(item_types)]
    if not governing:
        governing = [most_specific(rules, patron_category, WILDCARD).terms]
    allowed = [terms for terms in governing if lets_hold(terms)]
    if not allowed:
        kinds = ", ".join(sorted(item_types))
        raise FailedPrecondition(
            f"{patron_category} patrons may not place holds on {kinds} copies, the only ones of this title"
            if kinds
            else f"holds are not allowed for {patron_category} patrons",
            reason="HOLDS_NOT_ALLOWED",
            metadata={"patron_category": patron_category, **({"item_types": kinds} if kinds else {})},
        )
    return HoldTerms(
        max_holds=max(terms.max_holds for terms in allowed),
        pickup_days=max(terms.hold_pickup_days for terms in allowed),
    )
