"""The column-by-column check (`is_clean`) must never pass a request the field-by-field walk would refuse,
nor refuse one it passes: both are asked about random requests of every RPC of every service, built to sit
on and just past every limit."""

from __future__ import annotations

import random
from typing import Any

import pytest
from google.protobuf import message_factory
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message

from athenaeum.events.v1 import events_pb2
from services.support.mesh import registry
from services.support.runtime import boundary
from services.support.runtime.access import service_descriptor
from services.support.runtime.boundary import check_request, is_clean
from services.support.runtime.errors import InvalidArgument

ROUNDS = 40
TIMESTAMP = "google.protobuf.Timestamp"


def _walk_finds_nothing(request: Message) -> bool:
    return next(boundary._violations(request, ""), None) is None


def _request_types() -> list[Descriptor]:
    found = {
        method.input_type.full_name: method.input_type
        for spec in registry.SERVICES
        for name in spec.grpc_services
        for method in service_descriptor(name).methods
    }
    return [found[name] for name in sorted(found)]


def _text(rng: random.Random, field: FieldDescriptor) -> str:
    limit = boundary._rule(field).max_length
    cyrillic = "\u0411\u0443\u043b\u0433\u0430\u043a\u043e\u0432"
    return rng.choice(["", "ok", f"{cyrillic}\tok\n", "x" * limit, "x" * (limit + 1), "a\x00b", "\x7f", "\u00e9" * 3])


def _count(rng: random.Random, field: FieldDescriptor) -> int:
    most = boundary._rule(field).max_items
    return rng.choice([0, 1, 2, 3, most, most + 1]) if rng.random() < 0.2 else rng.choice([0, 1, 2])


def _scalar(rng: random.Random, field: FieldDescriptor) -> Any:
    if field.type == FieldDescriptor.TYPE_STRING:
        return _text(rng, field)
    if field.type == FieldDescriptor.TYPE_BYTES:
        return b"\x00\xff"
    if field.type == FieldDescriptor.TYPE_BOOL:
        return rng.random() < 0.5
    if field.type in (FieldDescriptor.TYPE_DOUBLE, FieldDescriptor.TYPE_FLOAT):
        return 1.5
    if field.type == FieldDescriptor.TYPE_ENUM:
        return rng.choice([value.number for value in field.enum_type.values])
    return rng.choice([0, 1, 7])


def _fill(rng: random.Random, message: Message, depth: int) -> Message:
    if message.DESCRIPTOR.full_name == TIMESTAMP:
        seconds = [0, 1_700_000_000, 253_402_300_799, 253_402_300_800, -62_135_596_800, -62_135_596_801]
        message.seconds = rng.choice(seconds)  # type: ignore[attr-defined]
        message.nanos = rng.choice([0, 999, 1000, 999_998_999, 999_999_000, 999_999_999, 10**9, -1])  # type: ignore[attr-defined]
        return message
    for field in message.DESCRIPTOR.fields:
        if rng.random() < 0.4 or (field.message_type is not None and depth <= 0):
            continue
        target = getattr(message, field.name)
        nested = field.message_type
        if nested is not None and nested.GetOptions().map_entry:
            for _ in range(_count(rng, field)):
                key = _scalar(rng, nested.fields_by_name["key"])
                value_field = nested.fields_by_name["value"]
                if value_field.message_type is None:
                    target[key] = _scalar(rng, value_field)
                else:
                    _fill(rng, target[key], depth - 1)
        elif field.is_repeated:
            for _ in range(_count(rng, field)):
                if nested is None:
                    target.append(_scalar(rng, field))
                else:
                    _fill(rng, target.add(), depth - 1)
        elif nested is not None:
            _fill(rng, target, depth - 1)
        elif not field.containing_oneof or rng.random() < 0.5:
            setattr(message, field.name, _scalar(rng, field))
    return message


@pytest.mark.parametrize("descriptor", _request_types(), ids=lambda descriptor: descriptor.full_name)
def test_the_column_check_agrees_with_the_field_walk(descriptor: Descriptor) -> None:
    rng = random.Random(descriptor.full_name)
    kinds = set()
    for _ in range(ROUNDS):
        request = _fill(rng, message_factory.GetMessageClass(descriptor)(), depth=3)
        clean = _walk_finds_nothing(request)
        assert is_clean(request) == clean, request
        kinds.add(clean)
    assert True in kinds  # every type is asked about at least one request it passes


def test_a_batch_with_one_bad_attribute_deep_inside_is_not_clean() -> None:
    events = [events_pb2.Event(type="web.search", attributes={"q": "fine"}) for _ in range(999)]
    events.append(events_pb2.Event(type="web.search", attributes={"q": "bad\x00"}))
    assert not is_clean(events_pb2.BatchRecordEventsRequest(events=events))
    events[-1].attributes["q"] = "fine"
    assert is_clean(events_pb2.BatchRecordEventsRequest(events=events))


def test_a_large_request_at_fault_is_refused_naming_the_field() -> None:
    events = [events_pb2.Event(type="web.search", attributes={"q": "fine"}) for _ in range(500)]
    events[321].attributes["q"] = "bad\x00"
    request = events_pb2.BatchRecordEventsRequest(events=events)
    assert request.ByteSize() >= boundary.COLUMNS_FROM_BYTES
    with pytest.raises(InvalidArgument) as refused:
        check_request(request)
    assert [violation.field for violation in refused.value.violations] == ["events[321].attributes['q']"]
