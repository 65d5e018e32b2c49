"""Read-side query language of the catalog: AIP-160 filters, AIP-132 order_by, search requests, and the
cursors their page tokens carry. Pure parsing: the data layer turns these values into SQL."""

from __future__ import annotations

import operator
import re
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from services.catalog.domain.books import Book
from services.catalog.domain.copies import CopyStatus
from services.catalog.domain.isbn import normalize_isbn
from services.support.runtime.errors import FieldViolation, InvalidArgument
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
COPY_FILTER_FIELDS = {"status": str, "branch": str, "item_type": str}
BOOK_ORDER_FIELDS = ("title", "publication_year", "create_time")
FACET_FIELDS = ("authors", "subjects", "language", "publisher", "publication_year")
FACET_SIZE = 20
MAX_QUERY_LENGTH = 200
MAX_FILTER_VALUES = 20

_TOKEN = re.compile(r'\s*(?:(?P<string>"(?:[^"\\]|\\.)*")|(?P<op><=|>=|!=|=|<|>)|(?P<word>[^\s"<>=!]+))')


@dataclass(frozen=True, slots=True)
class Condition:
    field: str
    op: str
    value: str | int


def parse_filter(text: str, fields: Mapping[str, type], *, name: str = "filter") -> tuple[Condition, ...]:
    """`field op value [AND field op value]...`; text values may be quoted. InvalidArgument names the problem."""
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


_AS_STORED: dict[str, Callable[[str], str]] = {"language": str.lower, "item_type": str.upper}
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
    value = raw[1:-1].replace('\\"', '"') if value_kind == "string" else raw
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
        raise InvalidArgument.field(name, f"status is one of {', '.join(CopyStatus.__members__)}")
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
        raise _not_our_token() from None


def _not_our_token() -> InvalidArgument:
    return InvalidArgument.field("page_token", "is not a token this service issued")


@dataclass(frozen=True, slots=True)
class SearchFilters:
    authors: tuple[str, ...] = ()
    subjects: tuple[str, ...] = ()
    language: str = ""
    publisher: str = ""
    min_year: int = 0
    max_year: int = 0
    available_only: bool = False

    def is_empty(self) -> bool:
        return self == SearchFilters()


@dataclass(frozen=True, slots=True)
class Search:
    """A search request, checked: free text and/or filters, facets to count."""

    text: str = ""
    filters: SearchFilters = field(default_factory=SearchFilters)
    facets: tuple[str, ...] = ()

    def validated(self) -> Search:
        violations: list[FieldViolation] = []
        text = " ".join(self.text.split())
        if not text and self.filters.is_empty():
            violations.append(FieldViolation("query", "give a query, a filter, or both"))
        if len(text) > MAX_QUERY_LENGTH:
            violations.append(FieldViolation("query", f"must be at most {MAX_QUERY_LENGTH} characters"))
        for index, facet in enumerate(self.facets):
            if facet not in FACET_FIELDS:
                violations.append(
                    FieldViolation(f"facets[{index}]", f"unknown facet; known: {', '.join(FACET_FIELDS)}")
                )
        f = self.filters
        for name, value in (("min_publication_year", f.min_year), ("max_publication_year", f.max_year)):
            if value < 0:
                violations.append(FieldViolation(f"filters.{name}", "must not be negative"))
        if f.min_year and f.max_year and f.min_year > f.max_year:
            violations.append(FieldViolation("filters.max_publication_year", "must not be before min_publication_year"))
        for name, values in (("authors", f.authors), ("subjects", f.subjects)):
            if len(values) > MAX_FILTER_VALUES:
                violations.append(FieldViolation(f"filters.{name}", f"at most {MAX_FILTER_VALUES} values"))
        if violations:
            raise InvalidArgument(violations)
        return Search(text=text, filters=f, facets=tuple(dict.fromkeys(self.facets)))

    def isbn(self) -> str:
        """The query as an ISBN-13 when it is one (an exact lookup), else ""."""
        try:
            return normalize_isbn(self.text)
        except ValueError:
            return ""


class Ranked(NamedTuple):
    """A book matching a search and its score; results go by score, best first, then by id."""

    score: float
    book_id: uuid.UUID


@dataclass(frozen=True, slots=True)
class Matches:
    """A page of the books a search matched, best first; how many it matched in all, and the counts of the
    facets it asked for over all of them."""

    ranked: list[Ranked]
    total: int = 0
    facets: dict[str, list[tuple[str, int]]] = field(default_factory=dict)
    typo_tolerant: bool = False
    """Whether the ranking counted near misses (it does when full text finds too little): the later pages of
    the search keep the first page's ranking, whatever the catalogue's changes would decide meanwhile."""


LIST_FACETS = frozenset({"authors", "subjects"})
"""Facets over a list field: a book counts once for each of its values."""


def count_facet(values: Iterable[str | int | None]) -> list[tuple[str, int]]:
    """The FACET_SIZE most frequent of these values (each book's, or each of a book's list field), most
    frequent first, then by value; empty values (no language, no year) are not counted."""
    return count_facet_pairs(Counter(filter(None, values)).items())


@dataclass(frozen=True, slots=True)
class Hit:
    """A search result: the book, its score, and the matching passages (<b>…</b> around the words)."""

    book: Book
    score: float
    highlights: list[str]


def score_cursor(ranked: Ranked) -> list[object]:
    return [ranked.score, str(ranked.book_id)]


def resume_ranked(cursor: list[Any] | None) -> Ranked | None:
    """The last hit of the page before (what `score_cursor` wrote): the next page starts right after it."""
    if cursor is None:
        return None
    try:
        score, book_id = cursor
        return Ranked(float(score), uuid.UUID(str(book_id)))
    except (ValueError, TypeError, OverflowError):  # 10**400 does not fit a float
        raise _not_our_token() from None


def search_cursor(ranked: Ranked, matches: Matches) -> list[object]:
    """What a search's next page resumes from: its last hit and how its pages are ranked."""
    return [*score_cursor(ranked), int(matches.typo_tolerant)]


def resume_search(cursor: list[Any] | None) -> tuple[Ranked | None, bool | None]:
    """The page before's last hit and its ranking (None, None for the first page, which decides it). A page
    that ranked anew switched between full text and typo tolerance when a book was added meanwhile: it
    repeated the hits of the page before and dropped others."""
    if cursor is None:
        return None, None
    if len(cursor) != 3 or cursor[2] not in (0, 1):
        raise _not_our_token()
    return resume_ranked(cursor[:2]), bool(cursor[2])


def ranks_after(ranked: Ranked, after: Ranked | None) -> bool:
    """Whether `ranked` comes after `after` in a search's order (score descending, then id)."""
    return after is None or (-ranked.score, ranked.book_id) > (-after.score, after.book_id)


def count_facet_pairs(pairs: Iterable[tuple[Any, int]]) -> list[tuple[str, int]]:
    """Values and their counts in count_facet's order and form."""
    ranked = sorted(pairs, key=lambda item: (-item[1], item[0]))
    return [(str(value), count) for value, count in ranked[:FACET_SIZE]]
