"""What a patron must satisfy to borrow: eligibility, fines owed, overdue loans, the loan limit."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from services.loans.domain.borrowing import (
    BorrowingPolicy,
    Eligibility,
    Standing,
    ensure_eligible,
    ensure_may_borrow,
    may_borrow_any_item_type,
)
from services.loans.domain.rules import CirculationRule, RuleTerms
from services.support.runtime.errors import FailedPrecondition

ELIGIBLE = Eligibility(patron="users/p", eligible=True, patron_category="ADULT")
TERMS = RuleTerms("*", "*", max_loans=2, max_outstanding_fines=Decimal("5.00"))


@pytest.mark.parametrize(
    ("eligibility", "standing", "policy", "reason"),
    [
        (Eligibility("users/p", False, "ADULT", ("blocked: lost card",)), Standing(0, 0, Decimal(0)),
         BorrowingPolicy(), "PATRON_NOT_ELIGIBLE"),
        (ELIGIBLE, Standing(0, 0, Decimal("5.01")), BorrowingPolicy(), "FINES_LIMIT_EXCEEDED"),
        (ELIGIBLE, Standing(1, 1, Decimal(0)), BorrowingPolicy(max_overdue_loans=0), "TOO_MANY_OVERDUE_LOANS"),
        (ELIGIBLE, Standing(2, 0, Decimal(0)), BorrowingPolicy(), "LOAN_LIMIT_REACHED"),
    ],
)  # fmt: skip
def test_borrowing_is_blocked_with_a_precise_reason(
    eligibility: Eligibility, standing: Standing, policy: BorrowingPolicy, reason: str
) -> None:
    with pytest.raises(FailedPrecondition) as blocked:
        ensure_may_borrow(eligibility, standing, TERMS, policy)
    assert blocked.value.reason == reason


def test_borrowing_is_allowed_up_to_the_limits() -> None:
    ensure_may_borrow(ELIGIBLE, Standing(1, 1, Decimal("5.00")), TERMS, BorrowingPolicy(max_overdue_loans=1))


def test_the_library_wide_fine_limit_applies_when_the_rule_sets_none() -> None:
    with pytest.raises(FailedPrecondition):
        ensure_may_borrow(
            ELIGIBLE,
            Standing(0, 0, Decimal("3")),
            RuleTerms("*", "*"),
            BorrowingPolicy(max_outstanding_fines=Decimal(2)),
        )


def test_an_ineligible_patron_may_not_renew_or_hold_and_is_told_why() -> None:
    ensure_eligible(ELIGIBLE, patron="users/p", what="renew")
    with pytest.raises(FailedPrecondition) as refused:
        ensure_eligible(Eligibility("users/p", False, "ADULT"), patron="users/p", what="renew")
    assert refused.value.reason == "PATRON_NOT_ELIGIBLE" and "account not active" in refused.value.message


def _rules(*terms: RuleTerms) -> list[CirculationRule]:
    return [CirculationRule.create(t, now=datetime(2026, 1, 1, tzinfo=UTC)) for t in terms]


@pytest.mark.parametrize(
    ("rules", "standing", "may"),
    [
        (_rules(TERMS), Standing(1, 0, Decimal(0)), True),
        (_rules(TERMS), Standing(2, 0, Decimal(0)), False),  # at the limit
        (_rules(TERMS, RuleTerms("ADULT", "DVD", max_loans=1)), Standing(1, 0, Decimal(0)), False),  # a DVD's
        (_rules(TERMS, RuleTerms("CHILD", "DVD", max_loans=1)), Standing(1, 0, Decimal(0)), True),  # not theirs
        (_rules(RuleTerms("ADULT", "BOOK")), Standing(0, 0, Decimal(0)), False),  # a DVD would have no rule
        (_rules(TERMS), Standing(0, 0, Decimal("5.01")), False),
    ],
)  # fmt: skip
def test_borrowing_whatever_the_item_type_needs_every_rule_that_may_govern_to_allow_it(
    rules: list[CirculationRule], standing: Standing, may: bool
) -> None:
    assert may_borrow_any_item_type(ELIGIBLE, standing, rules, BorrowingPolicy()) is may
