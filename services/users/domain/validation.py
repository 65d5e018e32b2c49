"""Field rules of an account: email, phone, password, patron category, card numbers. Pure: no I/O."""

from __future__ import annotations

import re
import secrets
from collections.abc import Sequence

from services.support.runtime.clock import zone_named
from services.support.runtime.errors import FieldViolation, InvalidArgument

# Only a plain dot-atom before the @ (RFC 5322's atext, single dots) and a host name of LDH labels after it:
# quotes, ":", ",", "<", ">", ";" or "(" make a mailer read another recipient out of the same string (it
# parses an address list), so the mail for this account would reach someone else's mailbox.
_ATEXT = r"[a-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LOCAL_PART = re.compile(rf"{_ATEXT}(?:\.{_ATEXT})*")
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_HOST_NAME = re.compile(rf"{_LABEL}(?:\.{_LABEL})+")
MAX_LOCAL_PART_LENGTH = 64
MAX_EMAIL_LENGTH = 254
_E164 = re.compile(r"\+[1-9][0-9]{6,14}")  # ASCII digits, matched whole ("$" let a final newline through)
# What people and phones' autofill put between the digits ("+7 (999) 123-45-67", "+1-555-000-2222"): no meaning
# in E.164, so taken out. Anything else (letters, "/", control characters, "*", "#") is refused.
_PHONE_SPACES = " \u00a0\u202f"  # and no-break ones; a newline or a tab is a control character, refused
_PHONE_SEPARATORS = re.compile(rf"[{_PHONE_SPACES}().\u2010\u2011\u2012\u2013-]")
PHONE_FORM = "must be in E.164 form, e.g. +79991234567 (spaces, brackets, dashes and dots may stay)"
PHONE_COUNTRY = (
    "must start with + and the country code, e.g. +7 999 123-45-67: a national prefix (8 or 0) does not say "
    "which country the number is in"
)
# ASCII only, matched whole: "$" also matches before a final newline, and a category "ADULT\n" matched no
# circulation rule (the loans service keys its rules by the same codes; see its domain/codes.py).
MAX_CATEGORY_LENGTH = 32  # what the API declares (users.proto); accounts have kept no longer one
_CATEGORY = re.compile(rf"[A-Z][A-Z0-9_]{{0,{MAX_CATEGORY_LENGTH - 1}}}")
MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 256  # argon2 accepts more, but a megabyte "password" is an attack, not a secret
_COMMON_PASSWORDS = frozenset(
    {"password123", "1234567890", "qwertyuiop", "iloveyou12", "password1!", "letmein123", "administrator"}
)
CARD_PREFIX = "29"
# The languages notices are written in. A BCP 47 tag is case-insensitive (RFC 5646 2.1.1) and may carry a
# script or region ("ru-Cyrl-RU"; a POSIX "en_US" too): only its language counts, as the notices have no other.
SUPPORTED_LOCALES = ("en", "ru")
_LANGUAGE_TAG = re.compile(r"^([a-z]{2,3})(?:[-_][a-z0-9]{1,8})*$")
NOTIFICATION_KINDS = frozenset(
    {"loan_issued", "loan_returned", "due_soon", "overdue", "loan_renewed", "hold_ready", "hold_expiring",
     "hold_expired", "hold_cancelled", "hold_requeued", "hold_pickup_changed", "fine_assessed", "welcome",
     "password_changed", "password_reset", "session_revoked", "email_changed", "phone_changed", "message",
     "new_book_by_author"}
)  # fmt: skip
"""The kinds of notification a user may choose channels for (the notifications service sends them)."""


def normalize_email(raw: str, *, field: str = "email") -> str:
    """Trimmed and lower-cased (addresses are compared case-insensitively); InvalidArgument if malformed."""
    email = raw.strip().lower()
    if (problem := email_problem(email)) is not None:
        raise InvalidArgument.field(field, problem)
    return email


def email_problem(email: str) -> str | None:
    """What makes a trimmed, lower-cased string no plain email address (None when it is one)."""
    local_part, at, host = email.rpartition("@")
    if not at or not local_part or len(email) > MAX_EMAIL_LENGTH:
        return f"must be an email address like reader@example.org, at most {MAX_EMAIL_LENGTH} characters"
    if len(local_part) > MAX_LOCAL_PART_LENGTH or not _LOCAL_PART.fullmatch(local_part):
        return (
            f"must be a plain address like reader@example.org: before the @ at most {MAX_LOCAL_PART_LENGTH} "
            "letters, digits and ! # $ % & ' * + - / = ? ^ _ ` { | } ~, parts separated by single dots "
            '(no quotes, spaces, ":", ",", ";", "<", ">", "(", ")", "[", "]", "\\" or "@")'
        )
    if not _HOST_NAME.fullmatch(host):
        return (
            "must be a plain address like reader@example.org: after the @ a host name with a dot, of letters, "
            'digits and "-" (a part neither starting nor ending with "-")'
        )
    return None


def phone_digits(phone: str) -> str:
    """The number as stored, "+" and digits: `phone` with its separators taken out. Check it first (see
    `phone_violation`): a refused number comes back merely stripped of them."""
    return _PHONE_SEPARATORS.sub("", phone)


def phone_violation(phone: str, *, field: str = "phone") -> FieldViolation | None:
    """None for no number, or one that is E.164 once its separators are taken out ("+7 (999) 123-45-67")."""
    number = phone_digits(phone)
    if not phone.strip(_PHONE_SPACES) or _E164.fullmatch(number):
        return None
    if number.isascii() and number.isdigit():
        return FieldViolation(field, PHONE_COUNTRY)  # "8 999 123-45-67", "89991234567", "0044…"
    return FieldViolation(field, PHONE_FORM)


def password_violation(password: str, email: str, *, field: str = "password") -> FieldViolation | None:
    """None when the password is acceptable (length, not a known-common one, not the email itself)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return FieldViolation(field, f"must be at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > MAX_PASSWORD_LENGTH:
        return FieldViolation(field, f"must be at most {MAX_PASSWORD_LENGTH} characters")
    lowered = password.lower()
    if lowered in _COMMON_PASSWORDS or len(set(password)) < 4 or lowered in (email, email.partition("@")[0]):
        return FieldViolation(field, "is too easy to guess")
    return None


def category_violation(category: str, *, field: str = "patron_category") -> FieldViolation | None:
    if not _CATEGORY.fullmatch(category):
        return FieldViolation(
            field, "must be an upper-case letter, then up to 31 of A-Z, 0-9 and _ (ASCII only), e.g. ADULT"
        )
    return None


def supported_locale(locale: str) -> str | None:
    """The supported language `locale` names ("RU", "ru-Cyrl-RU" -> "ru"; "" stays ""), None when none."""
    if not locale:
        return ""
    match = _LANGUAGE_TAG.match(locale.strip().lower())
    if match is None or match.group(1) not in SUPPORTED_LOCALES:
        return None
    return match.group(1)


def locale_violation(locale: str, *, field: str = "locale") -> FieldViolation | None:
    if supported_locale(locale) is None:
        names = " or ".join(f'"{language}"' for language in SUPPORTED_LOCALES)
        return FieldViolation(field, f"must be a supported language tag: {names} (e.g. ru-RU)")
    return None


def time_zone_violation(zone: str, *, field: str = "time_zone") -> FieldViolation | None:
    """An IANA zone name the system knows, e.g. Europe/Moscow ("" for the library's)."""
    if not zone:
        return None
    if zone_named(zone) is None:
        return FieldViolation(field, "must be an IANA time zone such as Europe/Moscow")
    return None


def kind_choices_violation(kinds: Sequence[str], *, field: str) -> FieldViolation | None:
    unknown = sorted(set(kinds) - NOTIFICATION_KINDS)
    if unknown:
        known = ", ".join(sorted(NOTIFICATION_KINDS))
        return FieldViolation(field, f"unknown kind {unknown[0][:40]!r}; known: {known}")
    return None


def new_card_number() -> str:
    """A 14-digit library card number with a Luhn check digit (what barcode scanners verify)."""
    body = CARD_PREFIX + "".join(secrets.choice("0123456789") for _ in range(11))
    return body + _luhn_digit(body)


def _luhn_digit(body: str) -> str:
    total = 0
    for position, char in enumerate(reversed(body)):
        digit = int(char) * (2 if position % 2 == 0 else 1)
        total += digit - 9 if digit > 9 else digit
    return str((10 - total % 10) % 10)
