"""A rule's item type is "*" or one the catalog lists: "BOK" or "DVDs" is refused, not stored to never match."""

from __future__ import annotations

import pytest

from services.loans.app.rule_matrix import (
    CreateCirculationRule,
    UpdateCirculationRule,
    create_circulation_rule,
    update_circulation_rule,
)
from services.loans.domain.rules import CirculationRule, RuleTerms
from services.support.runtime.errors import DependencyUnavailable, InvalidArgument

from ..desk import ADMIN, Desk
from ..fakes import FakeLoansDatabase


async def create(desk: Desk, terms: RuleTerms) -> CirculationRule:
    command = CreateCirculationRule(terms, actor=ADMIN)
    return await create_circulation_rule(command, uow=desk.uow(), clock=desk.clock, catalog=desk.catalog)


async def change_type(desk: Desk, rule: CirculationRule, item_type: str, *mask: str) -> CirculationRule:
    command = UpdateCirculationRule(rule.id, RuleTerms("adult", item_type, loan_period_days=9), mask, actor=ADMIN)
    return await update_circulation_rule(command, uow=desk.uow(), clock=desk.clock, catalog=desk.catalog)


@pytest.mark.parametrize("item_type", ["BOK", "dvds"])
async def test_a_rule_for_an_item_type_the_catalog_does_not_list_is_refused(
    db: FakeLoansDatabase, desk: Desk, item_type: str
) -> None:
    with pytest.raises(InvalidArgument) as unknown:
        await create(desk, RuleTerms("ADULT", item_type))
    assert unknown.value.reason == "UNKNOWN_ITEM_TYPE"
    assert unknown.value.violations[0].field == "circulation_rule.item_type"
    assert item_type.upper() in str(unknown.value)
    assert len(db.rules) == 1 and db.event_types() == []  # only the */* default row


async def test_a_listed_item_type_or_the_wildcard_makes_a_rule(desk: Desk) -> None:
    assert (await create(desk, RuleTerms("ADULT", "dvd"))).terms.item_type == "DVD"
    lookups = desk.catalog.item_type_lookups
    assert (await create(desk, RuleTerms("CHILD", "*"))).terms.item_type == "*"
    assert desk.catalog.item_type_lookups == lookups  # "*" is no type to ask about


async def test_a_malformed_code_is_refused_before_the_catalog_is_asked(desk: Desk) -> None:
    with pytest.raises(InvalidArgument) as bad:
        await create(desk, RuleTerms("ADULT", "\u00df"))  # str.upper: "SS"
    assert bad.value.reason == "INVALID_ARGUMENT" and desk.catalog.item_type_lookups == 0


async def test_while_the_catalog_is_down_a_rule_is_not_accepted_blindly(db: FakeLoansDatabase, desk: Desk) -> None:
    desk.catalog.down = True
    with pytest.raises(DependencyUnavailable):
        await create(desk, RuleTerms("ADULT", "DVD"))
    assert len(db.rules) == 1
    assert (await create(desk, RuleTerms("ADULT", "*"))).terms.item_type == "*"  # nothing to ask


async def test_an_update_asks_about_a_new_item_type_only(db: FakeLoansDatabase, desk: Desk) -> None:
    rule = await create(desk, RuleTerms("ADULT", "DVD"))
    with pytest.raises(InvalidArgument) as unknown:
        await change_type(desk, rule, "BOK", "item_type")
    assert unknown.value.reason == "UNKNOWN_ITEM_TYPE"
    assert db.rules[rule.id].terms.item_type == "DVD"
    assert (await change_type(desk, rule, "book", "item_type")).terms.item_type == "BOOK"
    # The type later leaves the catalog's list (or the catalog is down): the rule's other terms stay editable.
    desk.catalog.item_types.discard("BOOK")
    desk.catalog.down = True
    updated = await change_type(desk, rule, "Book")  # empty mask: every field, the item type unchanged
    assert (updated.terms.item_type, updated.terms.loan_period_days) == ("BOOK", 9)


@pytest.mark.parametrize("item_type", ["LARGE PRINT", "DVD/CD", "\u041a\u041d\u0418\u0413\u0410"])
async def test_a_rule_may_name_a_listed_code_from_before_the_rule_and_an_update_may_set_one(
    db: FakeLoansDatabase, desk: Desk, item_type: str
) -> None:
    """Catalog migration 0010 seeded such codes from old copies, which keep them: a rule for them is the only
    way to give those copies terms of their own (it was refused as a malformed code)."""
    desk.catalog.item_types.add(item_type)
    rule = await create(desk, RuleTerms("ADULT", f" {item_type.lower() if item_type.isascii() else item_type} "))
    assert rule.terms.item_type == item_type
    other = await create(desk, RuleTerms("CHILD", "DVD"))
    assert (await change_type(desk, other, item_type, "item_type")).terms.item_type == item_type


@pytest.mark.parametrize("item_type", ["LARGE PRINT", "\u041a\u041d\u0418\u0413\u0410 2"])
async def test_a_code_from_before_the_rule_the_catalog_does_not_list_is_refused_as_malformed(
    db: FakeLoansDatabase, desk: Desk, item_type: str
) -> None:
    with pytest.raises(InvalidArgument) as bad:
        await create(desk, RuleTerms("ADULT", item_type))
    assert bad.value.reason == "INVALID_ARGUMENT" and "ASCII only" in str(bad.value)
    rule = await create(desk, RuleTerms("ADULT", "DVD"))
    with pytest.raises(InvalidArgument):
        await change_type(desk, rule, item_type, "item_type")
    assert db.rules[rule.id].terms.item_type == "DVD"
