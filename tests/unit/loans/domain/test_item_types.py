"""Which item types a patron category may borrow or hold, read from the rules matrix."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from services.loans.domain.borrowing import BorrowingPolicy, Eligibility, Standing, ensure_may_borrow
from services.loans.domain.item_types import (
    ANY_ITEM_TYPE,
    HoldTerms,
    ItemTypes,
    hold_terms,
    holdable,
    holdable_by_every_category,
    lendable,
)
from services.loans.domain.rules import CirculationRule, RuleTerms
from services.support.runtime.errors import FailedPrecondition

NOW = datetime(2026, 11, 2, tzinfo=UTC)


def matrix(*rows: RuleTerms) -> list[CirculationRule]:
    return [CirculationRule.create(terms, now=NOW) for terms in (RuleTerms("*", "*"), *rows)]


REFERENCE = RuleTerms("*", "REFERENCE", max_loans=0, holds_allowed=False, max_holds=0, hold_pickup_days=1)


def test_every_type_but_those_whose_rule_refuses_is_lent_and_held() -> None:
    rules = matrix(REFERENCE, RuleTerms("*", "NEW", holds_allowed=False))
    assert lendable(rules, "ADULT") == ItemTypes(excluded=frozenset({"REFERENCE"}))
    assert holdable(rules, "ADULT") == ItemTypes(excluded=frozenset({"REFERENCE", "NEW"}))
    assert holdable(rules, "ADULT").admits("book") and not holdable(rules, "ADULT").admits("new")


def test_a_category_whose_default_refuses_takes_only_the_types_its_rules_allow() -> None:
    rules = matrix(RuleTerms("VISITOR", "*", max_loans=0), RuleTerms("VISITOR", "PAPERBACK", max_loans=1), REFERENCE)
    assert lendable(rules, "VISITOR") == ItemTypes(only=frozenset({"PAPERBACK"}))
    assert lendable(rules, "ADULT") == ItemTypes(excluded=frozenset({"REFERENCE"}))  # VISITOR's rows are not its
    assert lendable(matrix(RuleTerms("VISITOR", "*", max_loans=0)), "VISITOR").admits_none


def test_the_category_specific_row_outranks_the_item_types_row_for_its_category() -> None:
    rules = matrix(REFERENCE, RuleTerms("STAFF", "*"))  # STAFF/* is more specific than */REFERENCE
    assert holdable(rules, "STAFF") == ANY_ITEM_TYPE
    assert not holdable(rules, "ADULT").admits("REFERENCE")


def test_what_every_category_may_hold_is_what_each_of_them_may() -> None:
    rules = matrix(
        RuleTerms("CHILD", "DVD", holds_allowed=False),
        RuleTerms("GUEST", "*", holds_allowed=False),
        RuleTerms("GUEST", "BOOK"),
        RuleTerms("GUEST", "DVD"),
    )
    # GUEST may hold BOOK or DVD, CHILD anything but DVD
    assert holdable_by_every_category(rules) == ItemTypes(only=frozenset({"BOOK"}))
    assert holdable_by_every_category(matrix(REFERENCE)) == ItemTypes(excluded=frozenset({"REFERENCE"}))


def test_a_hold_on_a_title_no_copy_of_which_may_be_held_is_refused() -> None:
    rules = matrix(REFERENCE, RuleTerms("*", "DVD", max_holds=2, hold_pickup_days=3))
    with pytest.raises(FailedPrecondition) as refused:
        hold_terms(rules, "ADULT", {"REFERENCE"})
    assert refused.value.reason == "HOLDS_NOT_ALLOWED" and "REFERENCE" in refused.value.message
    assert hold_terms(rules, "ADULT", {"REFERENCE", "DVD"}) == HoldTerms(max_holds=2, pickup_days=3)
    assert hold_terms(rules, "ADULT", {"DVD", "BOOK"}) == HoldTerms(max_holds=5, pickup_days=7)
    assert hold_terms(rules, "ADULT", set()) == HoldTerms(max_holds=5, pickup_days=7)  # no copies yet: */*


def test_a_rule_lending_none_is_said_to_be_not_for_loan_not_a_limit_reached() -> None:
    eligible = Eligibility("users/p1", True, "ADULT")
    with pytest.raises(FailedPrecondition) as refused:
        ensure_may_borrow(eligible, Standing(0, 0, Decimal(0)), REFERENCE, BorrowingPolicy())
    assert refused.value.reason == "NOT_FOR_LOAN"
    assert refused.value.message.startswith("REFERENCE items are not for loan to ADULT patrons")
