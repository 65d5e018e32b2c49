"""ISBNs: every book is stored with its ISBN-13, whatever form a client sent."""

from __future__ import annotations

import re


def normalize_isbn(raw: str) -> str:
    """ISBN-10 or ISBN-13 (hyphens and spaces allowed) -> ISBN-13 digits; ValueError if the check digit is wrong."""
    digits = re.sub(r"[\s-]", "", raw).upper()
    # [0-9], not \d: \d takes every script's digits, so an ISBN in Arabic-Indic digits was stored beside its twin.
    if re.fullmatch(r"[0-9]{9}[0-9X]", digits):
        if sum((10 - i) * (10 if c == "X" else int(c)) for i, c in enumerate(digits)) % 11:
            raise ValueError("ISBN-10 check digit is wrong")
        body = "978" + digits[:9]
        return body + _isbn13_check_digit(body)
    if re.fullmatch(r"97[89][0-9]{10}", digits):
        if _isbn13_check_digit(digits[:12]) != digits[12]:
            raise ValueError("ISBN-13 check digit is wrong")
        return digits
    raise ValueError("must be 10 or 13 digits (ISBN-13 starts with 978 or 979)")


def _isbn13_check_digit(first_twelve: str) -> str:
    total = sum(int(c) * (1 if i % 2 == 0 else 3) for i, c in enumerate(first_twelve))
    return str((10 - total % 10) % 10)
