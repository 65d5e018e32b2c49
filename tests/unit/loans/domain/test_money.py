"""Money on the wire: decimal strings with at most two places, never negative."""

from __future__ import annotations

from decimal import Decimal

import pytest

from services.loans.domain.money import money, parse_amount, parse_money
from services.support.runtime.errors import InvalidArgument


def test_money_must_be_a_non_negative_decimal_with_cents() -> None:
    assert parse_money("0.5", field_name="f") == Decimal("0.50")
    assert parse_money("", field_name="f", allow_empty=True) is None
    for bad in ("abc", "-1", "0.001", "NaN"):
        with pytest.raises(InvalidArgument):
            parse_money(bad, field_name="f")


def test_a_required_amount_is_never_empty_and_the_wire_shows_cents() -> None:
    assert parse_amount("2", field_name="f") == Decimal("2.00")
    with pytest.raises(InvalidArgument):
        parse_amount("", field_name="f")
    assert money(Decimal("1.5")) == "1.50" and money(None) == ""
