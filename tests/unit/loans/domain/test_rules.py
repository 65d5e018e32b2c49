"""The circulation rules matrix: wildcards, most specific row wins, due dates capped, fines capped."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from services.loans.domain.money import MAX_AMOUNT
from services.loans.domain.periods import MAX_PERIOD_DAYS, end_of_day_after
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
        RuleTerms("", "*", loan_period_days=0, max_renewals=-1).validated(now=NOW)
    fields = {v.field for v in bad.value.violations}
    assert fields == {
        "circulation_rule.patron_category",
        "circulation_rule.loan_period_days",
        "circulation_rule.max_renewals",
    }


def test_zero_days_on_the_hold_shelf_or_of_renewal_are_refused_while_they_are_allowed() -> None:
    """A hold was ready and expired in the same instant (the patron mailed to pick it up by a time past)."""
    with pytest.raises(InvalidArgument) as bad:
        RuleTerms("*", "*", hold_pickup_days=0, renewal_period_days=0, max_renewals=2).validated(now=NOW)
    assert {v.field for v in bad.value.violations} == {
        "circulation_rule.hold_pickup_days",
        "circulation_rule.renewal_period_days",
    }
    kept = RuleTerms("*", "REFERENCE", holds_allowed=False, hold_pickup_days=0, max_renewals=0, renewal_period_days=0)
    assert kept.validated(now=NOW).hold_pickup_days == 0


def test_periods_past_a_century_are_refused_by_name_and_a_century_is_a_valid_loan() -> None:
    with pytest.raises(InvalidArgument) as bad:
        RuleTerms(
            "*", "*", loan_period_days=2**31 - 1, renewal_period_days=36_501, grace_days=10**6, hold_pickup_days=40_000
        ).validated(now=NOW)
    assert {v.field: v.description for v in bad.value.violations} == {
        f"circulation_rule.{name}": "must be at most 36500 (a century)"
        for name in ("loan_period_days", "renewal_period_days", "grace_days", "hold_pickup_days")
    }
    century = RuleTerms("*", "*", loan_period_days=MAX_PERIOD_DAYS, max_loans=2**31 - 1).validated(now=NOW)
    assert century.due_at(NOW, century.loan_period_days, UTC) == end_of_day_after(NOW, MAX_PERIOD_DAYS, UTC)


def test_a_rule_stored_before_the_limit_gives_a_century_not_a_failed_issue() -> None:
    stored = RuleTerms("*", "*", loan_period_days=2**31 - 1)  # as read back, never validated again
    assert stored.due_at(NOW, stored.loan_period_days, UTC) == end_of_day_after(NOW, MAX_PERIOD_DAYS, UTC)


def test_a_hard_due_date_caps_the_due_date() -> None:
    term_end = NOW + timedelta(days=5)
    terms = RuleTerms("*", "*", hard_due_at=term_end)
    assert terms.due_at(NOW, 14, UTC) == end_of_day_after(term_end, 0, UTC)  # when that day ends
    assert RuleTerms("*", "*").due_at(NOW, 14, UTC) == end_of_day_after(NOW, 14, UTC)


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


@pytest.mark.parametrize(
    ("hard_due_at", "description"),
    [
        (NOW - timedelta(days=10), "must be in the future (unset it for no hard due date)"),
        (NOW, "must be in the future (unset it for no hard due date)"),
        (datetime(1, 1, 3, tzinfo=UTC), "must be in the future (unset it for no hard due date)"),
        (NOW + timedelta(days=MAX_PERIOD_DAYS + 1), "must be at most 36500 days (a century) ahead"),
    ],
)
def test_a_hard_due_date_not_ahead_or_past_a_century_is_refused_by_its_api_name(
    hard_due_at: datetime, description: str
) -> None:
    with pytest.raises(InvalidArgument) as bad:
        rule("*", "TERM", hard_due_at=hard_due_at)
    assert {v.field: v.description for v in bad.value.violations} == {"circulation_rule.hard_due_time": description}
    row = rule("*", "TERM")
    with pytest.raises(InvalidArgument):
        row.update(RuleTerms("*", "TERM", hard_due_at=hard_due_at), now=NOW)
    assert row.terms.hard_due_at is None


def test_a_hard_due_date_up_to_a_century_ahead_is_kept() -> None:
    term_end = NOW + timedelta(days=MAX_PERIOD_DAYS)
    assert rule("*", "TERM", hard_due_at=term_end).terms.hard_due_at == term_end


def test_a_rule_whose_term_has_ended_keeps_its_other_terms_editable_but_not_a_new_past_date() -> None:
    row = rule("*", "TERM", hard_due_at=NOW + timedelta(days=5))
    later = NOW + timedelta(days=30)
    row.update(replace(row.terms, max_loans=2), now=later)  # the passed date is kept as it was
    assert row.terms.max_loans == 2
    with pytest.raises(InvalidArgument):
        row.update(replace(row.terms, hard_due_at=NOW + timedelta(days=6)), now=later)
    row.update(replace(row.terms, hard_due_at=None), now=later)
    assert row.terms.hard_due_at is None


@pytest.mark.parametrize(
    "hard_due_at",
    [NOW - timedelta(seconds=1), NOW, datetime.min],  # datetime.min: as asyncpg reads back 0001-01-01 (naive)
)
def test_terms_whose_hard_due_date_has_passed_lend_nothing(hard_due_at: datetime) -> None:
    stored = RuleTerms("*", "TERM", hard_due_at=hard_due_at)  # as read back, set before it was validated
    with pytest.raises(FailedPrecondition) as refused:
        stored.ensure_lends_at(NOW + timedelta(days=1), UTC)  # the day of the hard due date has ended
    assert refused.value.reason == "HARD_DUE_DATE_PASSED"
    RuleTerms("*", "TERM", hard_due_at=NOW + timedelta(seconds=1)).ensure_lends_at(NOW, UTC)
    RuleTerms("*", "TERM").ensure_lends_at(NOW, UTC)
