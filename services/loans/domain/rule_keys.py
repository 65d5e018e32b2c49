"""The circulation rules follow the catalog's item types: a rule is keyed by a type's code, which the catalog
may rename or delete. Pure: no I/O.

A renamed type's rules are re-keyed to the new code, and a deleted type's rules go with it (as a foreign key
cascading an update and a delete would, were both in one database): a rule can only be made for a
type the catalog lists (rule_matrix.create_circulation_rule asks it), so one naming a type no longer listed
would govern nothing and could not be made again. Each change is the rule's own event, with a note saying why,
so the audit trail shows it beside the admins' edits.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from services.loans.domain.codes import WILDCARD
from services.loans.domain.rules import CirculationRule
from services.support.runtime.errors import DependencyUnavailable

UNRECORDED_BEFORE = WILDCARD
"""The key of the renames followed before they were recorded (loans migration 0022 writes the time it ran):
a rename the catalog made before it is taken as followed."""
_SAME_INSTANT = timedelta(milliseconds=1)
"""The event's time and the copy's answer carry one instant by two roads (proto, Postgres): a rounding on either
must not hold a type's copies back for ever. Two renames of one code are admin calls, never this close."""


@dataclass(slots=True)
class RulesFollowed:
    """What following one change of the catalog's item types did to the rules."""

    rekeyed: list[CirculationRule] = field(default_factory=list)
    retired: list[CirculationRule] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)
    """For a rename onto a code a category already had a rule for: "CATEGORY/OLD" (its rule retired)."""

    @property
    def changed(self) -> bool:
        return bool(self.rekeyed or self.retired)


def follow_rename(rules: Iterable[CirculationRule], old: str, new: str, *, now: datetime) -> RulesFollowed:
    """Re-key every rule for `old` to `new`. Where a patron category has a rule for both, the one for `new`
    is kept as it is (an admin made it for that code, the newer intent) and the one for `old` is retired, the
    conflict noted. Nothing to do when no rule names `old` (a second delivery of the same rename)."""
    rules = list(rules)
    followed = RulesFollowed()
    if WILDCARD in (old, new) or old == new:
        return followed
    taken = {rule.terms.patron_category for rule in rules if rule.terms.item_type == new}
    for rule in rules:
        if rule.terms.item_type != old:
            continue
        category = rule.terms.patron_category
        if category in taken:
            note = (
                f"item type {old} renamed {new} in the catalog; a rule for {category}/{new} already exists and is "
                f"kept: this one, for {category}/{old}, is deleted"
            )
            rule.retire(now=now, note=note)
            followed.retired.append(rule)
            followed.conflicts.append(f"{category}/{old}")
        else:
            rule.follow_item_type(new, now=now, note=f"item type {old} renamed {new} in the catalog")
            followed.rekeyed.append(rule)
    return followed


def follow_deletion(
    rules: Iterable[CirculationRule],
    code: str,
    *,
    deleted_at: datetime,
    now: datetime,
    listed_again: bool | None = None,
) -> RulesFollowed:
    """Retire the rules for `code` of the deleted type. Every one while the catalog does not list the code
    (`listed_again` False): the deletion wins over an edit made as it happened, which would otherwise survive as
    an orphan to govern a type created one day with that code. A type created again since (True) keeps the rules
    an admin made or changed after the deletion (`deleted_at`): theirs for the new type. Unknown (None, the
    catalog not answering): that time alone decides."""
    followed = RulesFollowed()
    if code == WILDCARD:
        return followed
    for rule in rules:
        kept = listed_again is not False and rule.updated_at > deleted_at
        if rule.terms.item_type == code and not kept:
            rule.retire(now=now, note=f"item type {code} deleted from the catalog")
            followed.retired.append(rule)
    return followed


@dataclass(frozen=True, slots=True)
class RenamesFollowed:
    """When each code was last given to a type by a rename these rules have followed (the catalog's time)."""

    times: Mapping[str, datetime] = field(default_factory=dict)

    def cover(self, code: str, renamed_at: datetime | None) -> bool:
        """Whether a copy whose type took `code` at `renamed_at` (None: never renamed) is matched rightly."""
        if renamed_at is None:
            return True
        followed = [at for at in (self.times.get(code), self.times.get(UNRECORDED_BEFORE)) if at is not None]
        return any(at >= renamed_at - _SAME_INSTANT for at in followed)


def unlisted_keys(rules: Iterable[CirculationRule], listed: Collection[str]) -> set[str]:
    """The item-type codes the rules are keyed by that the catalog does not list ("*" aside). A rename not yet
    followed leaves its type's rules keyed by the old code, which the catalog lists no more: none such, and the
    rules are behind no rename (unless one gave a code back that another had just freed, both unfollowed)."""
    return {rule.terms.item_type for rule in rules if rule.terms.item_type != WILDCARD} - set(listed)


class RulesBehindCatalog(DependencyUnavailable):
    """The copy's item type was renamed in the catalog and the rules have not followed it yet: lent now, the
    copy would fall to the rules of no type (the "*" default) for the whole loan. Within moments they have."""

    reason = "ITEM_TYPE_RENAME_IN_FLIGHT"

    def __init__(self, code: str) -> None:
        super().__init__(
            f"item type {code} was just renamed in the catalog and the circulation rules are still following it: "
            "nothing was lent; retry in a moment",
            metadata={"item_type": code},
            retry_after=1.0,
        )
