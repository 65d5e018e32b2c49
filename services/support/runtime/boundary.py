"""The one check every request passes before any handler sees it: what no field of any API may hold.

- No control characters in a string, but tab and line breaks (a NUL would reach Postgres and fail there).
- No string longer, and no list or map larger, than its field's declared limits
  (`option (athenaeum.api.v1.limits)`) or the defaults.
- No Timestamp outside what a Timestamp can mean (years 1-9999, nanos below a second).
Every offending field is named in one InvalidArgument, by its path (`book.authors[3]`), and no offending
value is echoed back.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import cast

from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message

from athenaeum.api.v1 import limits_pb2
from services.support.runtime.errors import FieldViolation, InvalidArgument

DEFAULT_MAX_LENGTH = 10_000
DEFAULT_MAX_ITEMS = 1_000
MAX_VIOLATIONS = 20
"""A request with more bad fields than this is told about the first ones only."""

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_TIMESTAMP = "google.protobuf.Timestamp"
_MIN_SECONDS = -62_135_596_800  # 0001-01-01T00:00:00Z
_MAX_SECONDS = 253_402_300_799  # 9999-12-31T23:59:59Z


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
    elif _CONTROL.search(value):
        yield FieldViolation(path, "must not contain control characters (NUL and the like)")


def _timestamp(stamp: Message, path: str) -> Iterator[FieldViolation]:
    seconds, nanos = getattr(stamp, "seconds", 0), getattr(stamp, "nanos", 0)
    if not _MIN_SECONDS <= seconds <= _MAX_SECONDS or not 0 <= nanos < 1_000_000_000:
        yield FieldViolation(path, "must be a time between the years 1 and 9999")
