"""Which events a List, Watch or Aggregate call means: the request's fields plus an AIP-160 subset.

Grammar: `term (AND term)*`, a term `field op value`; op one of = != < <= > >=; a value is "quoted" (\\"
escapes) or a bare word; a quoted value ending in * matches a prefix. Fields: actor, subject, type, source,
trace_id, category, resource, occur_time, attributes.<key>.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from services.events.domain.model import Category, EventRecord
from services.events.domain.rules import KEY as KEY_PATTERN
from services.support.runtime.errors import InvalidArgument
from services.support.runtime.names import canonical_name

MAX_FILTER_LENGTH = 2000
MAX_TERMS = 16
TEXT_FIELDS = ("actor", "subject", "type", "source", "trace_id")
NAME_FIELDS = ("actor", "subject", "resource")
ATTRIBUTES = "attributes."
EQUALITY = ("=", "!=")
ORDERING = ("<", "<=", ">", ">=")

_TOKEN = re.compile(r'\s*(?:(?P<op><=|>=|!=|=|<|>)|"(?P<quoted>(?:[^"\\]|\\.)*)"|(?P<word>[A-Za-z0-9_.:+\-\[\]]+))')


@dataclass(frozen=True, slots=True)
class Condition:
    field: str
    op: str
    value: str | datetime | Category
    prefix: bool = False
    """The value ended in *: matches every value that starts with it."""

    def matches(self, record: EventRecord) -> bool:
        if self.field == "occur_time":
            assert isinstance(self.value, datetime)
            return _compare(record.occur_time, self.op, self.value)
        if self.field == "category":
            return (record.category == self.value) == (self.op == "=")
        found = any(self._equal(value) for value in self._values(record))
        return found == (self.op == "=")

    def _values(self, record: EventRecord) -> Iterator[str]:
        if self.field == "resource":
            yield record.subject
            yield from record.resources
        elif self.field.startswith(ATTRIBUTES):
            value = record.attributes.get(self.field[len(ATTRIBUTES) :])
            if value is not None:
                yield value
        else:
            yield str(getattr(record, self.field))

    def _equal(self, value: str) -> bool:
        assert isinstance(self.value, str)
        return value.startswith(self.value) if self.prefix else value == self.value


@dataclass(frozen=True, slots=True)
class EventQuery:
    """Conditions that all hold (AND)."""

    conditions: tuple[Condition, ...] = ()

    def matches(self, record: EventRecord) -> bool:
        return all(condition.matches(record) for condition in self.conditions)

    def fingerprint(self) -> tuple[object, ...]:
        """What a page token is bound to."""
        return tuple((c.field, c.op, str(c.value), c.prefix) for c in self.conditions)

    def bounds(self) -> tuple[datetime | None, datetime | None]:
        """The tightest [start, end) on occur_time the conditions imply (None: unbounded)."""
        start: datetime | None = None
        end: datetime | None = None
        for c in self.conditions:
            if c.field != "occur_time" or not isinstance(c.value, datetime):
                continue
            if c.op in (">", ">=") and (start is None or c.value > start):
                start = c.value
            if c.op in ("<", "<=") and (end is None or c.value < end):
                end = c.value
        return start, end


MAX_VALUE_LENGTH = 1024
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _checked(value: str, field: str) -> str:
    """A value compared with the log's: printable and bounded (a NUL would reach the database)."""
    if len(value) > MAX_VALUE_LENGTH or _CONTROL.search(value):
        raise InvalidArgument.field(
            field, f"values are at most {MAX_VALUE_LENGTH} characters, without control characters"
        )
    return value


def build_query(
    *,
    actor: str = "",
    subject: str = "",
    type: str = "",
    category: int = 0,
    start_time: datetime | None = None,
    end_time: datetime | None = None,
    filter: str = "",
) -> EventQuery:
    """The request's own fields (type: exact, or a prefix ending in ".") and its filter, as one query."""
    conditions = [
        Condition(name, "=", canonical_name(_checked(value, name)))
        for name, value in (("actor", actor), ("subject", subject))
        if value
    ]
    if type:
        conditions.append(Condition("type", "=", _checked(type, "type"), prefix=type.endswith(".")))
    if category:
        conditions.append(Condition("category", "=", _category(str(category), "category")))
    if start_time and end_time and start_time > end_time:
        raise InvalidArgument.field("start_time", "must not be after end_time")
    if start_time:
        conditions.append(Condition("occur_time", ">=", start_time))
    if end_time:
        conditions.append(Condition("occur_time", "<", end_time))
    return EventQuery((*conditions, *parse_filter(filter)))


def parse_filter(text: str) -> tuple[Condition, ...]:
    """The filter's conditions; InvalidArgument (field "filter") when it is not in the subset."""
    if not text.strip():
        return ()
    if len(text) > MAX_FILTER_LENGTH:
        raise _bad(f"is longer than {MAX_FILTER_LENGTH} characters")
    tokens = _tokens(text)
    conditions: list[Condition] = []
    position = 0
    while True:
        if len(tokens) < position + 3:
            raise _bad("expected `field operator value`")
        (kind_f, field), (kind_o, op), (kind_v, value) = tokens[position : position + 3]
        if kind_f != "word" or kind_o != "op" or kind_v == "op":
            raise _bad("expected `field operator value`")
        conditions.append(_condition(field, op, value, quoted=kind_v == "quoted"))
        position += 3
        if position == len(tokens):
            break
        if tokens[position] != ("word", "AND"):
            raise _bad("terms are joined by AND (OR and parentheses are not supported)")
        position += 1
        if len(conditions) >= MAX_TERMS:
            raise _bad(f"at most {MAX_TERMS} terms")
    return tuple(conditions)


def _tokens(text: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    position = 0
    while position < len(text):
        if text[position:].isspace():
            break
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise _bad(f"unexpected character at position {position}")
        kind = match.lastgroup or "word"
        value = match.group(kind)
        tokens.append((kind, re.sub(r"\\(.)", r"\1", value) if kind == "quoted" else value))
        position = match.end()
    return tokens


def _condition(field: str, op: str, value: str, *, quoted: bool) -> Condition:
    if field == "occur_time":
        if op not in ORDERING:
            raise _bad("occur_time takes <, <=, > or >=")
        return Condition(field, op, _time(value))
    if op not in EQUALITY:
        raise _bad(f"{_safe(field)} takes = or !=")
    if field == "category":
        return Condition(field, op, _category(value, "filter"))
    attribute = field.startswith(ATTRIBUTES) and KEY_PATTERN.fullmatch(field[len(ATTRIBUTES) :]) is not None
    if field not in (*TEXT_FIELDS, "resource") and not attribute:
        raise _bad(f"cannot filter on {_safe(field)}")
    _checked(value, "filter")
    prefix = quoted and value.endswith("*")
    if prefix:
        return Condition(field, op, value[:-1], prefix=True)
    # One resource whichever way its id is spelled: the names recorded are canonical.
    return Condition(field, op, canonical_name(value) if field in NAME_FIELDS else value)


def _category(value: str, field: str) -> Category:
    names = {"1": Category.ACTIVITY, "2": Category.AUDIT, **{c.name: c for c in Category}}
    found = names.get(value.removeprefix("EVENT_CATEGORY_"))
    if found is None:
        raise InvalidArgument.field(field, "must be ACTIVITY or AUDIT")
    return found


def _time(value: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise _bad("occur_time compares with an RFC 3339 time, e.g. 2026-12-01T00:00:00Z") from None
    if moment.tzinfo is None:
        raise _bad("occur_time needs a time zone, e.g. Z")
    try:
        return moment.astimezone(UTC)
    except OverflowError:  # 0001-01-01T00:00:00+01:00 is before the year 1 in UTC
        raise _bad("occur_time compares with a time between the years 1 and 9999 in UTC") from None


def _compare(left: datetime, op: str, right: datetime) -> bool:
    return {"<": left < right, "<=": left <= right, ">": left > right, ">=": left >= right}[op]


def _safe(field: str) -> str:
    """A field name as echoed in an error: short and printable."""
    return field[:40] if field.isprintable() else "that field"


def _bad(description: str) -> InvalidArgument:
    return InvalidArgument.field("filter", description)
