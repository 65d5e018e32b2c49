"""Read-side query language of the catalog: AIP-160 filters, AIP-132 order_by, and the cursors their page
tokens carry. Pure parsing: the data layer turns these values into SQL. Search requests are in
search_queries.py."""

from __future__ import annotations

import operator
import re
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from services.catalog.domain.books import Book
from services.catalog.domain.copy_values import CopyStatus
from services.catalog.domain.isbn import normalize_isbn
from services.catalog.domain.item_types import spelt_code
from services.support.runtime.errors import InvalidArgument
from services.support.runtime.filter_strings import STRING, WORD_START, unquote
from services.support.runtime.pagination import cursor_time

OPERATORS: dict[str, Callable[[Any, Any], Any]] = {
    "=": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
"""What each comparison of a filter means; Python values and SQL columns both understand these."""
COMPARISONS = tuple(OPERATORS)
BOOK_FILTER_FIELDS = {
    "author": str,
    "subject": str,
    "language": str,
    "publisher": str,
    "isbn": str,
    "publication_year": int,
    "available_copies": int,
}
COPY_FILTER_FIELDS = {"status": str, "branch": str, "item_type": str, "sent_home_from": str}
BOOK_ORDER_FIELDS = ("title", "publication_year", "create_time")

_TOKEN = re.compile(rf'\s*(?:(?P<string>{STRING})|(?P<op><=|>=|!=|=|<|>)|(?P<word>{WORD_START}<>=!][^\s"<>=!]*))')


@dataclass(frozen=True, slots=True)
class Condition:
    field: str
    op: str
    value: str | int


def parse_filter(text: str, fields: Mapping[str, type], *, name: str = "filter") -> tuple[Condition, ...]:
    """`field op value [AND field op value]...`; text values may be quoted ("…" or '…', filter_strings.py).
    InvalidArgument names the problem."""
    tokens = _tokens(text, name)
    conditions: list[Condition] = []
    while tokens:
        if len(tokens) < 3:
            raise InvalidArgument.field(name, "expected `field op value`")
        (kind, field_name), (op_kind, op), (value_kind, raw) = tokens[:3]
        del tokens[:3]
        conditions.append(_condition(field_name, op, raw, fields, name, kind, op_kind, value_kind))
        if tokens:
            joiner = tokens.pop(0)
            if joiner != ("word", "AND") or not tokens:
                raise InvalidArgument.field(name, "conditions are joined by AND (OR and NOT are not supported)")
    return tuple(conditions)


def _tokens(text: str, name: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    position = 0
    text = text.strip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise InvalidArgument.field(name, f"cannot parse the filter at character {position + 1}")
        kind = match.lastgroup or "word"
        tokens.append((kind, match.group(kind)))
        position = match.end()
    return tokens


STATUS_VALUE_PREFIX = "COPY_STATUS_"
"""A copy's status as the API prints it (COPY_STATUS_AVAILABLE); AIP-160 matches an enum by that name, and
the short one (AVAILABLE) is taken too."""
_AS_STORED: dict[str, Callable[[str], str]] = {
    "language": str.lower,
    "branch": str.strip,  # and compared whatever its case (data/copies.py): kept as typed without the list
    "item_type": spelt_code,
    "sent_home_from": str.strip,  # compared whatever its case, as `branch` is
    "status": lambda value: value.removeprefix(STATUS_VALUE_PREFIX),
}
"""How a filter's value is written as the catalog writes that field (BookDetails and CopyDetails)."""
_WHOLE_NUMBER = re.compile(r"-?[0-9]{1,9}")


def _condition(field_name: str, op: str, raw: str, fields: Mapping[str, type], name: str, *kinds: str) -> Condition:
    field_kind, op_kind, value_kind = kinds
    if field_kind != "word" or field_name not in fields:
        raise InvalidArgument.field(name, f"unknown field {field_name!r}; known: {', '.join(fields)}")
    if op_kind != "op":
        raise InvalidArgument.field(name, f"expected one of {' '.join(COMPARISONS)} after {field_name}")
    if value_kind == "op":
        raise InvalidArgument.field(name, f"expected a value after {field_name} {op}")
    value = unquote(raw, name=name) if value_kind == "string" else raw
    if fields[field_name] is int:
        if not _WHOLE_NUMBER.fullmatch(value):
            # Python's int() reads "1_999" and other scripts' digits; Postgres compares 32-bit integers, which
            # nine digits always fit (a larger number reached it and answered INTERNAL).
            raise InvalidArgument.field(name, f"{field_name} compares with a whole number of at most 9 digits")
        return Condition(field_name, op, int(value))
    if op not in ("=", "!="):
        raise InvalidArgument.field(name, f"{field_name} supports = and != only")
    if field_name == "isbn":
        value = _isbn(value, name)
    value = _AS_STORED.get(field_name, str)(value)  # `language = "EN"` matched nothing: languages are kept lower
    if field_name == "status" and value not in CopyStatus.__members__:
        names = ", ".join(CopyStatus.__members__)
        raise InvalidArgument.field(name, f"status is one of {names}, with or without {STATUS_VALUE_PREFIX}")
    return Condition(field_name, op, value)


def _isbn(value: str, name: str) -> str:
    try:
        return normalize_isbn(value)
    except ValueError as error:
        raise InvalidArgument.field(name, f"isbn {error}") from None


@dataclass(frozen=True, slots=True)
class SortKey:
    field: str
    descending: bool


def parse_order_by(text: str, *, default: str = "create_time desc") -> tuple[SortKey, ...]:
    """`field [desc], ...` over title, publication_year, create_time."""
    keys: list[SortKey] = []
    for part in (text.strip() or default).split(","):
        words = part.split()
        if not words or words[0] not in BOOK_ORDER_FIELDS or len(words) > 2 or words[1:] not in ([], ["desc"], ["asc"]):
            raise InvalidArgument.field(
                "order_by", f"expected `field [desc]` with field one of {', '.join(BOOK_ORDER_FIELDS)}"
            )
        if any(key.field == words[0] for key in keys):
            raise InvalidArgument.field("order_by", f"{words[0]} appears twice")
        keys.append(SortKey(words[0], words[1:] == ["desc"]))
    return tuple(keys)


def sort_cursor(book: Book, keys: Sequence[SortKey]) -> list[object]:
    """The values a page token carries to resume after `book` (JSON-friendly)."""
    values = {"title": book.details.title, "publication_year": book.details.publication_year, "create_time": None}
    return [book.created_at.isoformat() if k.field == "create_time" else values[k.field] for k in keys] + [str(book.id)]


def _year(value: Any) -> int:
    """A year from a page token: an integer Postgres can compare (a forged token may carry anything)."""
    year = int(value)
    if not -(2**31) <= year < 2**31:
        raise ValueError(year)
    return year


_CURSOR_TYPES: dict[str, Callable[[Any], object]] = {
    "title": str,
    "publication_year": _year,
    "create_time": cursor_time,
}


def resume_after(keys: Sequence[SortKey], cursor: list[Any]) -> tuple[object, ...]:
    """A token's cursor as typed sort values, then the book id (what `sort_cursor` wrote)."""
    try:
        if len(cursor) != len(keys) + 1:
            raise ValueError
        values = [_CURSOR_TYPES[k.field](v) for k, v in zip(keys, cursor, strict=False)]
        return (*values, uuid.UUID(cursor[-1]))
    except (ValueError, TypeError, AttributeError, OverflowError):  # tokens are not signed: anything may come
        raise not_our_token() from None


def not_our_token() -> InvalidArgument:
    """What a page token that is not one this service wrote gets (tokens are not signed: anything may come)."""
    return InvalidArgument.field("page_token", "is not a token this service issued")
