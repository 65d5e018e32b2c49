"""Money on the wire and in the rules: Decimal with two places, written as a decimal string. Pure."""

from __future__ import annotations

import re
from decimal import Decimal

from services.support.runtime.errors import InvalidArgument

CENTS = Decimal("0.01")
ZERO = Decimal("0.00")
MAX_AMOUNT = Decimal("9999999999.99")
"""The largest amount any rule, fine or payment may name: what a NUMERIC(12, 2) column holds."""


_PLAIN_DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")
"""Digits with an optional point, as a desk types an amount. Decimal() reads more ("1_000", "1E+1", "NaN",
Arabic-Indic digits): each was taken as an amount."""


def parse_money(raw: str, *, field_name: str, allow_empty: bool = False) -> Decimal | None:
    """A decimal string -> Decimal with 2 places; None for "" when allowed; InvalidArgument otherwise."""
    text = raw.strip()
    if not text:
        if allow_empty:
            return None
        raise InvalidArgument.field(field_name, "must be a decimal amount such as 0.50")
    if not _PLAIN_DECIMAL.fullmatch(text):
        raise InvalidArgument.field(field_name, "must be a decimal amount such as 0.50")
    value = Decimal(text)
    if value < 0:
        raise InvalidArgument.field(field_name, "must not be negative")
    if value > MAX_AMOUNT:  # checked first: quantizing 1E+309 to cents is itself an error
        raise InvalidArgument.field(field_name, f"must be at most {MAX_AMOUNT}")
    if len(text.partition(".")[2]) > 2:  # as written: "1.500" is what a grouping comma ("1,500") becomes
        raise InvalidArgument.field(field_name, "must have at most two decimal places")
    return value.quantize(CENTS)


def parse_amount(raw: str, *, field_name: str) -> Decimal:
    """A required amount (parse_money that never returns None)."""
    amount = parse_money(raw, field_name=field_name)
    assert amount is not None  # parse_money returns None only when allow_empty
    return amount


def money(value: Decimal | None) -> str:
    """Decimal -> the wire's decimal string ("" for None)."""
    return "" if value is None else str(value.quantize(CENTS))
