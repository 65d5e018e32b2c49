"""The codes a circulation rule is keyed by: a patron category and an item type, or "*". Pure: no I/O.

A rule matches a patron's category and a copy's item type by equality, so a code no account or copy can carry
makes a rule that silently never applies. Codes are what the other services keep: item types as the catalog's
list has them (A-Z 0-9 _ -, 1-20), categories as accounts have them (a letter, then A-Z 0-9 _, up to 32). Only
a-z are upper-cased, and the check comes after: `str.upper` would turn "\u00df" into "SS", the dotless i
"\u0131" into "I" and the long s "\u017f" into "S", making a rule for a code nobody typed.
"""

from __future__ import annotations

import re
import string

from services.support.runtime.errors import FieldViolation, InvalidArgument

WILDCARD = "*"
_ASCII_UPPER = str.maketrans(string.ascii_lowercase, string.ascii_uppercase)
_ITEM_TYPE = re.compile(r"[A-Z0-9_-]{1,20}")
MAX_LISTED_CODE = 64  # a copy's item type before codes were checked
MAX_CATEGORY_LENGTH = 32  # as accounts have them (users' domain), and as the API declares
_CATEGORY = re.compile(rf"[A-Z][A-Z0-9_]{{0,{MAX_CATEGORY_LENGTH - 1}}}")


def spelt_code(code: str) -> str:
    """Trimmed, a-z upper-cased (an admin may type "dvd"); any other character stays as typed, to be refused."""
    return code.strip().translate(_ASCII_UPPER)


def item_type_violation(item_type: str, field: str) -> FieldViolation | None:
    """For a spelt item type: "*" or a code the catalog's list could hold (whether it does is the catalog's)."""
    if not item_type:
        return FieldViolation(field, "must not be empty (use * for any)")
    if item_type == WILDCARD or _ITEM_TYPE.fullmatch(item_type):
        return None
    return FieldViolation(field, "must be * or an item type code: 1-20 of A-Z, 0-9, _ and - (ASCII only)")


def may_be_listed_before_the_rule(item_type: str) -> bool:
    """Whether a spelt item type outside today's rule may still be a code of the catalog's list, which only the
    catalog can say: catalog migration 0010 seeded the list with the types of copies catalogued before codes were
    checked ("LARGE PRINT", "DVD/CD", "КНИГА": free text as `str.upper` left it, up to 64 characters), and copies
    keep them. A code `str.upper` would change ("\u00df", the dotless i) was never kept so: refused unasked."""
    return (
        item_type_violation(item_type, "") is not None
        and 0 < len(item_type) <= MAX_LISTED_CODE
        and item_type.isprintable()
        and item_type == item_type.upper()
    )


def category_violation(category: str, field: str) -> FieldViolation | None:
    """For a spelt patron category: "*" or one an account may have (the users service's rule)."""
    if not category:
        return FieldViolation(field, "must not be empty (use * for any)")
    if category == WILDCARD or _CATEGORY.fullmatch(category):
        return None
    return FieldViolation(
        field, "must be * or a patron category: a letter, then up to 31 of A-Z, 0-9 and _ (ASCII only)"
    )


class UnknownItemType(InvalidArgument):
    """A rule's item type the catalog's list does not have (a typo such as "BOK" would never match a copy).
    INVALID_ARGUMENT with reason UNKNOWN_ITEM_TYPE, as the catalog refuses a copy of such a type."""

    reason = "UNKNOWN_ITEM_TYPE"

    def __init__(self, code: str, field: str = "circulation_rule.item_type") -> None:
        super().__init__(FieldViolation(field, f"unknown item type {code}: define it in itemTypes first"))
