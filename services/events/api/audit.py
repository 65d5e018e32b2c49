"""Any domain event of the mesh, read generically: the payload decoded by its Athenaeum-Event-Type header
through the descriptor pool, flattened to dotted attributes (without the fields its proto marks
`debug_redact`), and turned into an AUDIT record by the rules of domain/audit.py. No context's payloads are
known here by name."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any, cast

from google.protobuf import descriptor_pool, message_factory
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message

from services.events.domain.audit import audit_record
from services.events.domain.model import EventRecord
from services.support.runtime.access import api_modules
from services.support.runtime.messaging import ACTOR_HEADER, EVENT_TYPE_HEADER

_WELL_KNOWN = {
    "google.protobuf.Timestamp": lambda m: m.ToJsonString(),
    "google.protobuf.Duration": lambda m: m.ToJsonString(),
    "google.protobuf.FieldMask": lambda m: ",".join(m.paths),
}


_ZERO_IS_A_VALUE = frozenset(
    {
        FieldDescriptor.TYPE_BOOL, FieldDescriptor.TYPE_DOUBLE, FieldDescriptor.TYPE_FLOAT,
        FieldDescriptor.TYPE_INT32, FieldDescriptor.TYPE_INT64, FieldDescriptor.TYPE_UINT32,
        FieldDescriptor.TYPE_UINT64, FieldDescriptor.TYPE_SINT32, FieldDescriptor.TYPE_SINT64,
        FieldDescriptor.TYPE_FIXED32, FieldDescriptor.TYPE_FIXED64, FieldDescriptor.TYPE_SFIXED32,
        FieldDescriptor.TYPE_SFIXED64,
    }
)  # fmt: skip


class Unreadable(ValueError):
    """Not a domain event of ours (no or unknown type header, bad payload)."""


def load_payload_types() -> None:
    """Import every generated module, so the pool knows every context's payloads."""
    api_modules()


def audit_of(subject: str, data: bytes, headers: Mapping[str, str] | None, *, now: datetime) -> EventRecord:
    """The AUDIT record of one message published on `subject` ("athenaeum.<context>.<event>.v1")."""
    headers = headers or {}
    parts = subject.split(".")
    if len(parts) != 4 or parts[0] != "athenaeum" or EVENT_TYPE_HEADER not in headers:
        raise Unreadable(f"{subject} is not a domain event subject")
    payload = _decode(headers[EVENT_TYPE_HEADER], data)
    fields = list(flatten(payload))
    occur_time = dict(fields).get("occur_time")
    return audit_record(
        event_id=getattr(payload, "event_id", "") or headers.get("Nats-Msg-Id", ""),
        type=".".join(parts[:3]),
        context=parts[1],
        occur_time=_time(occur_time) if occur_time else now,
        record_time=now,
        fields=fields,
        actor_hint=headers.get(ACTOR_HEADER, ""),
        trace_id=trace_id(headers),
    )


def _decode(type_name: str, data: bytes) -> Message:
    try:
        descriptor = descriptor_pool.Default().FindMessageTypeByName(type_name)
        return message_factory.GetMessageClass(descriptor).FromString(data)
    except Exception as error:  # unknown type, or bytes that are not that message
        raise Unreadable(f"cannot decode a {type_name[:100]}") from error


def flatten(message: Message, prefix: str = "") -> Iterator[tuple[str, str]]:
    """(dotted path, text) for every set field, in field order: loan.patron, book.authors, items[0].name.
    A field marked `debug_redact` in its proto (personal data, e.g. a notification's address and text) is left
    out: the audit trail says who did what to which resource, and is kept longer than such data may be.
    A number at zero or a flag at false is a value and is kept (`available_copies` 0, a preference turned
    off); an empty string or list, an unset message and an enum at its UNSPECIFIED zero say nothing."""
    for field, value in _set_or_zero(message):
        if field.GetOptions().debug_redact:
            continue
        path = f"{prefix}{field.name}"
        if field.message_type is not None and field.message_type.GetOptions().map_entry:
            for key, item in value.items():
                yield from _value(f"{path}.{key}", field.message_type.fields_by_name["value"], item)
        elif field.is_repeated:
            if field.message_type is None:
                yield path, json.dumps([_scalar(field, item) for item in value], ensure_ascii=False)
            else:
                for index, item in enumerate(value):
                    yield from _value(f"{path}[{index}]", field, item)
        else:
            yield from _value(path, field, value)


def _set_or_zero(message: Message) -> Iterator[tuple[FieldDescriptor, Any]]:
    """The fields ListFields gives (those set), and beside them the numbers and flags at zero that it leaves
    out (proto3 does not tell a zero from an unset number: in a payload, one is a zero), in field order."""
    listed: dict[Any, Any] = dict(message.ListFields())
    for field in cast(Descriptor, message.DESCRIPTOR).fields:
        if field in listed:
            yield field, listed[field]
        elif field.type in _ZERO_IS_A_VALUE and not field.is_repeated and not field.has_presence:
            yield field, getattr(message, field.name)


def _value(path: str, field: FieldDescriptor, value: object) -> Iterator[tuple[str, str]]:
    if field.message_type is None:
        yield path, _scalar(field, value)
    elif field.message_type.full_name in _WELL_KNOWN:
        yield path, _WELL_KNOWN[field.message_type.full_name](value)
    else:
        assert isinstance(value, Message)
        yield from flatten(value, f"{path}.")


def _scalar(field: FieldDescriptor, value: object) -> str:
    if field.enum_type is not None:
        number = int(value)  # type: ignore[call-overload]
        known = field.enum_type.values_by_number.get(number)
        return known.name if known is not None else str(number)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, bytes):
        return f"<{len(value)} bytes>"
    return str(value)


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def trace_id(headers: Mapping[str, str]) -> str:
    """The W3C trace id of a message's `traceparent` header ("" without one)."""
    parts = headers.get("traceparent", "").split("-")
    return parts[1] if len(parts) == 4 and len(parts[1]) == 32 and parts[1] != "0" * 32 else ""
