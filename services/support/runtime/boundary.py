"""The one check every request passes before any handler sees it: what no field of any API may hold.

- No control characters in a string, but tab and line breaks (a NUL would reach Postgres and fail there):
  C0 and C1 controls, and bidi overrides (`text.CONTROL`).
- No string longer, and no list or map larger, than its field's declared limits
  (`option (athenaeum.api.v1.limits)`) or the defaults.
- No Timestamp outside what a Timestamp can mean (years 1-9999, nanos below a second).
Every offending field is named in one InvalidArgument, by its path (`book.authors[3]`), and no offending
value is echoed back.

A request is first checked column by column along a plan made once per message type (every string of the
request gathered by its limit, then one length check per limit and one control-character search over all of
them, loops in C): for a batch of a thousand events about a fifth of walking it field by field. A small
request is walked field by field at once (its few set fields cost less to walk than the plan's every field),
and so is one the plan finds at fault, to name the offenders.

The interceptors reach it through request_decoding.py, which also refuses bytes that are no message at all.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import chain
from operator import attrgetter, methodcaller
from typing import Any, cast

from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message

from athenaeum.api.v1 import limits_pb2
from services.support.runtime.errors import FieldViolation, InvalidArgument
from services.support.runtime.text import CONTROL

DEFAULT_MAX_LENGTH = 10_000
DEFAULT_MAX_ITEMS = 1_000
MAX_VIOLATIONS = 20
"""A request with more bad fields than this is told about the first ones only."""
COLUMNS_FROM_BYTES = 2048
"""Requests this large or larger are checked column by column first."""

_TIMESTAMP = "google.protobuf.Timestamp"
_MIN_SECONDS = -62_135_596_800  # 0001-01-01T00:00:00Z
LAST_SECOND = 253_402_300_799  # 9999-12-31T23:59:59Z: the last a Timestamp (and Postgres) may hold


@dataclass(frozen=True, slots=True)
class _FieldRule:
    max_length: int
    max_items: int


@functools.cache
def _rule(field: FieldDescriptor) -> _FieldRule:
    declared = field.GetOptions().Extensions[limits_pb2.limits]
    return _FieldRule(declared.max_length or DEFAULT_MAX_LENGTH, declared.max_items or DEFAULT_MAX_ITEMS)


@functools.cache
def _may_hold_text_or_time(descriptor: Descriptor) -> bool:
    """Whether any string, repeated or Timestamp field is reachable from this message type (else skip it)."""
    return _reachable(descriptor, frozenset())


def _reachable(descriptor: Descriptor, seen: frozenset[str]) -> bool:
    if descriptor.full_name == _TIMESTAMP:
        return True
    for field in descriptor.fields:
        if field.type == FieldDescriptor.TYPE_STRING or _is_repeated(field):
            return True
        nested = field.message_type
        if nested is not None and nested.full_name not in seen and _reachable(nested, seen | {descriptor.full_name}):
            return True
    return False


def _is_repeated(field: FieldDescriptor) -> bool:
    return bool(field.is_repeated)


def check_request(request: Message) -> None:
    """Raise InvalidArgument naming every field that breaks a boundary rule; return quietly otherwise."""
    if not _may_hold_text_or_time(request.DESCRIPTOR):
        return
    if request.ByteSize() >= COLUMNS_FROM_BYTES and is_clean(request):
        return
    violations = []
    for violation in _violations(request, ""):
        violations.append(violation)
        if len(violations) == MAX_VIOLATIONS:
            break
    if violations:
        raise InvalidArgument(violations)


def _violations(message: Message, prefix: str) -> Iterator[FieldViolation]:
    if message.DESCRIPTOR.full_name == _TIMESTAMP:
        yield from _timestamp(message, prefix.rstrip("."))
        return
    for field, value in message.ListFields():
        path = f"{prefix}{field.name}"
        rule = _rule(field)
        if field.message_type is not None and field.message_type.GetOptions().map_entry:
            yield from _map(field, value, path, rule)
        elif _is_repeated(field):
            if len(value) > rule.max_items:
                yield FieldViolation(path, f"must hold at most {rule.max_items} items")
                continue
            for index, item in enumerate(value):
                yield from _value(field, item, f"{path}[{index}]", rule)
        else:
            yield from _value(field, value, path, rule)


def _map(field: FieldDescriptor, entries: object, path: str, rule: _FieldRule) -> Iterator[FieldViolation]:
    items = dict(entries)  # type: ignore[call-overload]
    if len(items) > rule.max_items:
        yield FieldViolation(path, f"must hold at most {rule.max_items} entries")
        return
    value_field = cast(Descriptor, field.message_type).fields_by_name["value"]
    for key, value in items.items():
        if isinstance(key, str):
            yield from _text(key, f"{path} key", rule)
        yield from _value(value_field, value, f"{path}[{key!r:.40}]", rule)


def _value(field: FieldDescriptor, value: object, path: str, rule: _FieldRule) -> Iterator[FieldViolation]:
    if isinstance(value, str):
        yield from _text(value, path, rule)
    elif isinstance(value, Message):
        yield from _violations(value, f"{path}.")


def _text(value: str, path: str, rule: _FieldRule) -> Iterator[FieldViolation]:
    if len(value) > rule.max_length:
        yield FieldViolation(path, f"must be at most {rule.max_length} characters")
    elif CONTROL.search(value):
        yield FieldViolation(
            path, "must not contain control characters (NUL, C1 controls, bidi overrides and the like)"
        )


def _timestamp(stamp: Message, path: str) -> Iterator[FieldViolation]:
    if not is_valid_time(getattr(stamp, "seconds", 0), getattr(stamp, "nanos", 0)):
        yield FieldViolation(path, TIME_RANGE)


TIME_RANGE = "must be a time between the years 1 and 9999, short of their first and last microsecond"
_LAST_MICROSECOND = 999_999_000
"""Nanos from which the last second's time is Python's `datetime.max` (microseconds, truncated). asyncpg
stores `datetime.max` as Postgres's `infinity`, and `datetime.min` (the first microsecond) as `-infinity`, and
reads them back naive: a membership expiring at 9999-12-31T23:59:59.999999Z failed every later read of it."""


def is_valid_time(seconds: int, nanos: int) -> bool:
    """Whether a Timestamp's fields mean a time the services can store: years 1-9999 (nanos below a second)
    but the calendar's first and last microsecond."""
    if not (_MIN_SECONDS <= seconds <= LAST_SECOND and 0 <= nanos < 1_000_000_000):
        return False
    return not ((seconds == _MIN_SECONDS and nanos < 1000) or (seconds == LAST_SECOND and nanos >= _LAST_MICROSECOND))


def is_clean(request: Message) -> bool:
    """True when no field breaks a rule (False: some field may; `check_request` then names them)."""
    texts: dict[int, list[str]] = {}
    if not _clean([request], _plan(cast(Descriptor, request.DESCRIPTOR)), texts):
        return False
    if any(max(map(len, strings), default=0) > limit for limit, strings in texts.items()):
        return False
    return CONTROL.search("".join(chain.from_iterable(texts.values()))) is None


class _Plan:
    """What to read of one message type: its string fields by limit, and the nested messages to follow."""

    __slots__ = ("counted", "maps", "message_lists", "messages", "text_lists", "texts", "timestamp")

    def __init__(self) -> None:
        self.timestamp = False
        self.texts: list[tuple[Any, int]] = []
        self.text_lists: list[tuple[Any, _FieldRule]] = []
        self.counted: list[tuple[Any, int]] = []
        """Lists of anything else (numbers, enums, messages without text): only their length counts."""
        self.messages: list[tuple[Any, Any, _Plan]] = []
        self.message_lists: list[tuple[Any, int, _Plan]] = []
        self.maps: list[tuple[Any, _FieldRule, bool, bool, _Plan | None]] = []


_plans: dict[str, _Plan] = {}


def _plan(descriptor: Descriptor) -> _Plan:
    plan = _plans.get(descriptor.full_name)
    if plan is not None:
        return plan
    plan = _plans[descriptor.full_name] = _Plan()  # in place before its fields: a type may hold itself
    plan.timestamp = descriptor.full_name == _TIMESTAMP
    for field in () if plan.timestamp else descriptor.fields:
        _plan_field(plan, field)
    return plan


def _plan_field(plan: _Plan, field: FieldDescriptor) -> None:
    rule, get, nested = _rule(field), attrgetter(field.name), field.message_type
    if nested is not None and nested.GetOptions().map_entry:
        key, value = nested.fields_by_name["key"], nested.fields_by_name["value"]
        value_type = value.message_type
        value_plan = _plan(value_type) if value_type is not None and _may_hold_text_or_time(value_type) else None
        is_text = FieldDescriptor.TYPE_STRING
        plan.maps.append((get, rule, key.type == is_text, value.type == is_text, value_plan))
    elif nested is not None and _may_hold_text_or_time(nested):
        if _is_repeated(field):
            plan.message_lists.append((get, rule.max_items, _plan(nested)))
        else:
            plan.messages.append((methodcaller("HasField", field.name), get, _plan(nested)))
    elif field.type == FieldDescriptor.TYPE_STRING:
        if _is_repeated(field):
            plan.text_lists.append((get, rule))
        else:
            plan.texts.append((get, rule.max_length))
    elif _is_repeated(field):
        plan.counted.append((get, rule.max_items))


def _clean(items: list[Any], plan: _Plan, texts: dict[int, list[str]]) -> bool:
    """Gather the strings of `items` (messages of one type) into `texts`; False when a count or a time is
    out of bounds."""
    if plan.timestamp:
        seconds, nanos = [item.seconds for item in items], [item.nanos for item in items]
        if min(seconds) > _MIN_SECONDS and max(seconds) < LAST_SECOND:
            return 0 <= min(nanos) <= max(nanos) < 10**9
        return all(map(is_valid_time, seconds, nanos))  # at an edge of the calendar: each by itself
    for get, limit in plan.texts:
        texts.setdefault(limit, []).extend(map(get, items))
    for get, rule in plan.text_lists:
        lists = list(map(get, items))
        if max(map(len, lists)) > rule.max_items:
            return False
        texts.setdefault(rule.max_length, []).extend(chain.from_iterable(lists))
    for get, max_items in plan.counted:
        if max(map(len, map(get, items))) > max_items:
            return False
    for has, get, nested in plan.messages:
        present = list(map(get, filter(has, items)))
        if present and not _clean(present, nested, texts):
            return False
    for get, max_items, nested in plan.message_lists:
        lists = list(map(get, items))
        if max(map(len, lists)) > max_items:
            return False
        flat = list(chain.from_iterable(lists))
        if flat and not _clean(flat, nested, texts):
            return False
    return all(_map_clean(items, *entry, texts) for entry in plan.maps)


def _map_clean(
    items: list[Any],
    get: Any,
    rule: _FieldRule,
    text_keys: bool,
    text_values: bool,
    nested: _Plan | None,
    texts: dict[int, list[str]],
) -> bool:
    maps = list(map(get, items))
    if max(map(len, maps)) > rule.max_items:
        return False
    if not (text_keys or text_values or nested):
        return True
    strings = texts.setdefault(rule.max_length, [])
    if text_keys:
        strings.extend(chain.from_iterable(maps))  # a map iterates its keys (its views are slow)
    if not (text_values or nested):
        return True
    values = [entries[key] for entries in maps for key in entries]
    if text_values:
        strings.extend(values)
        return True
    return not values or _clean(values, cast(_Plan, nested), texts)
