"""Money on the wire: decimal strings with at most two places, never negative."""

from __future__ import annotations

from decimal import Decimal

import pytest

from services.loans.data.tables import MONEY
from services.loans.domain.money import MAX_AMOUNT, money, parse_amount, parse_money
from services.support.runtime.errors import InvalidArgument


def test_money_must_be_a_non_negative_decimal_with_cents() -> None:
    assert parse_money("0.5", field_name="f") == Decimal("0.50")
    assert [parse_money(raw, field_name="f") for raw in (" 2.", ".5 ", "+3")] == [Decimal(x) for x in ("2", "0.5", "3")]
    assert parse_money("", field_name="f", allow_empty=True) is None
    for bad in ("abc", "-1", "0.001", "NaN", "1.500", "2.000"):  # never a grouping comma made a point
        with pytest.raises(InvalidArgument):
            parse_money(bad, field_name="f")


def test_a_required_amount_is_never_empty_and_the_wire_shows_cents() -> None:
    assert parse_amount("2", field_name="f") == Decimal("2.00")
    with pytest.raises(InvalidArgument):
        parse_amount("", field_name="f")
    assert money(Decimal("1.5")) == "1.50" and money(None) == ""


@pytest.mark.parametrize(
    ("raw", "said"),
    [
        ("NaN", "must be a decimal amount such as 0.50"),
        ("Infinity", "must be a decimal amount such as 0.50"),
        ("-Infinity", "must be a decimal amount such as 0.50"),
        ("1e309", "must be a decimal amount such as 0.50"),
        ("1E+1", "must be a decimal amount such as 0.50"),  # Decimal reads it: a desk does not type it
        ("1_000", "must be a decimal amount such as 0.50"),
        ("\u0661\u0662", "must be a decimal amount such as 0.50"),  # Arabic-Indic digits
        ("12,50", "must be a decimal amount such as 0.50"),
        ("99999999999999999999.99", "must be at most 9999999999.99"),
        ("10000000000", "must be at most 9999999999.99"),
    ],
)
def test_an_amount_that_is_no_number_or_past_the_largest_is_refused_by_name(raw: str, said: str) -> None:
    with pytest.raises(InvalidArgument) as refused:
        parse_money(raw, field_name="fine.amount")
    assert refused.value.message == f"fine.amount: {said}"


def test_the_largest_amount_is_accepted_and_fits_the_column_that_stores_it() -> None:
    assert parse_amount(str(MAX_AMOUNT), field_name="f") == MAX_AMOUNT
    digits, places = MONEY.precision, MONEY.scale
    assert places == 2 and Decimal(10) ** (digits - places) - Decimal("0.01") == MAX_AMOUNT
