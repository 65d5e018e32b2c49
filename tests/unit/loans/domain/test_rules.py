"""The circulation rules matrix: wildcards, most specific row wins, due dates capped, fines capped."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from services.loans.domain.money import MAX_AMOUNT
from services.loans.domain.periods import MAX_PERIOD_DAYS
from services.loans.domain.rules import CirculationRule, RuleTerms, most_specific, ordered
from services.support.runtime.errors import Conflict, FailedPrecondition, InvalidArgument

NOW = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)


def rule(category: str, item_type: str, **terms: object) -> CirculationRule:
    return CirculationRule.create(RuleTerms(category, item_type, **terms), now=NOW)  # type: ignore[arg-type]


MATRIX = [
    rule("*", "*", loan_period_days=14),
    rule("*", "DVD", loan_period_days=7),
    rule("CHILD", "*", loan_period_days=21),
    rule("CHILD", "DVD", loan_period_days=3),
]


@pytest.mark.parametrize(
    ("category", "item_type", "period"),
    [("CHILD", "DVD", 3), ("CHILD", "BOOK", 21), ("ADULT", "DVD", 7), ("ADULT", "BOOK", 14), ("child", "dvd", 3)],
)
def test_the_most_specific_row_wins(category: str, item_type: str, period: int) -> None:
    assert most_specific(MATRIX, category, item_type).terms.loan_period_days == period


def test_a_category_row_beats_an_item_type_row() -> None:
    assert most_specific(MATRIX[1:3], "CHILD", "DVD").terms.loan_period_days == 21


def test_rules_are_listed_most_specific_first() -> None:
    assert [r.terms.loan_period_days for r in ordered(MATRIX)] == [3, 21, 7, 14]


def test_keys_are_normalised_and_bad_values_named() -> None:
    assert rule(" adult ", "book").terms.patron_category == "ADULT"
    with pytest.raises(InvalidArgument) as bad:
        RuleTerms("", "*", loan_period_days=0, max_renewals=-1).validated()
    fields = {v.field for v in bad.value.violations}
    assert fields == {
        "circulation_rule.patron_category",
        "circulation_rule.loan_period_days",
        "circulation_rule.max_renewals",
    }


def test_periods_past_a_century_are_refused_by_name_and_a_century_is_a_valid_loan() -> None:
    with pytest.raises(InvalidArgument) as bad:
        RuleTerms(
            "*", "*", loan_period_days=2**31 - 1, renewal_period_days=36_501, grace_days=10**6, hold_pickup_days=40_000
        ).validated()
    assert {v.field: v.description for v in bad.value.violations} == {
        f"circulation_rule.{name}": "must be at most 36500 (a century)"
        for name in ("loan_period_days", "renewal_period_days", "grace_days", "hold_pickup_days")
    }
    century = RuleTerms("*", "*", loan_period_days=MAX_PERIOD_DAYS, max_loans=2**31 - 1).validated()
    assert century.due_at(NOW, century.loan_period_days) == NOW + timedelta(days=MAX_PERIOD_DAYS)


def test_a_rule_stored_before_the_limit_gives_a_century_not_a_failed_issue() -> None:
    stored = RuleTerms("*", "*", loan_period_days=2**31 - 1)  # as read back, never validated again
    assert stored.due_at(NOW, stored.loan_period_days) == NOW + timedelta(days=MAX_PERIOD_DAYS)


def test_a_hard_due_date_caps_the_due_date() -> None:
    term_end = NOW + timedelta(days=5)
    terms = RuleTerms("*", "*", hard_due_at=term_end)
    assert terms.due_at(NOW, 14) == term_end
    assert RuleTerms("*", "*").due_at(NOW, 14) == NOW + timedelta(days=14)


def test_overdue_fines_are_per_day_and_capped() -> None:
    terms = RuleTerms("*", "*", fine_per_day=Decimal("0.25"), fine_cap=Decimal("1.00"))
    assert terms.overdue_fine(3) == Decimal("0.75")
    assert terms.overdue_fine(10) == Decimal("1.00")
    assert terms.overdue_fine(0) == Decimal("0.00")


def test_an_uncapped_fine_never_grows_past_the_largest_amount_a_fine_may_be() -> None:
    terms = RuleTerms("*", "*", fine_per_day=MAX_AMOUNT)
    assert terms.overdue_fine(1) == MAX_AMOUNT
    assert terms.overdue_fine(36_500) == MAX_AMOUNT  # a century overdue: still what the fine's column holds


def test_the_default_row_cannot_be_deleted_or_narrowed() -> None:
    default = rule("*", "*")
    with pytest.raises(FailedPrecondition):
        default.delete(now=NOW)
    with pytest.raises(FailedPrecondition):
        default.update(RuleTerms("ADULT", "*"), now=NOW)


def test_a_stale_etag_is_refused() -> None:
    row = rule("ADULT", "BOOK")
    row.update(RuleTerms("ADULT", "BOOK", loan_period_days=28), now=NOW, etag=row.etag)
    assert row.version == 2
    with pytest.raises(Conflict):
        row.update(RuleTerms("ADULT", "BOOK"), now=NOW, etag='W/"1"')
    assert isinstance(row.id, uuid.UUID)
