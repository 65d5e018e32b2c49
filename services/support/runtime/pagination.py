"""AIP-158 pagination: page sizes and opaque page tokens bound to the query that produced them."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from services.support.runtime.errors import InvalidArgument

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100


def page_size(requested: int, *, default: int = DEFAULT_PAGE_SIZE, maximum: int = MAX_PAGE_SIZE) -> int:
    """0 means the default; larger than the maximum is coerced down (AIP-158); negative is an error."""
    if requested < 0:
        raise InvalidArgument.field("page_size", "must not be negative")
    return min(requested or default, maximum)


def fingerprint(*query_parts: object) -> str:
    """Identifies a query (filter, order, parent), so a token cannot be replayed against another query."""
    return hashlib.sha256(json.dumps(query_parts, default=str).encode()).hexdigest()[:16]


def encode_token(cursor: Sequence[Any], query: str) -> str:
    raw = json.dumps({"c": list(cursor), "q": query}, default=str, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_token(token: str, query: str) -> list[Any] | None:
    """The cursor a token carries; None for the first page."""
    if not token:
        return None
    try:
        padded = token + "=" * (-len(token) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded))
        cursor, issued_for = data["c"], data["q"]
    except (ValueError, KeyError, TypeError):
        raise InvalidArgument.field("page_token", "is not a token this service issued") from None
    if issued_for != query:
        raise InvalidArgument.field("page_token", "belongs to a different query")
    if not isinstance(cursor, list) or not all(map(_plain, cursor)):
        raise InvalidArgument.field("page_token", "is not a token this service issued")
    return cursor


def _plain(value: object) -> bool:
    """A cursor value a query can take: tokens are not signed, and a forged one's NUL or lone surrogate in a
    string failed the query (INTERNAL) where it should fail the token."""
    if isinstance(value, str):
        return "\x00" not in value and _encodes(value)
    return value is None or isinstance(value, int | float)


def _encodes(text: str) -> bool:
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True


def cursor_time(value: object) -> datetime:
    """A time from a page token, in UTC; ValueError unless it is an aware time inside the calendar Python and
    Postgres share. Tokens are not signed: a forged one may carry `0001-01-01T00:00:00+05:00`, which is before
    the year 1 in UTC and failed the query (INTERNAL) where it should fail the token."""
    moment = datetime.fromisoformat(str(value))
    if moment.tzinfo is None:
        raise ValueError("a cursor's time has no offset")
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        raise ValueError("a cursor's time is outside the calendar") from None
