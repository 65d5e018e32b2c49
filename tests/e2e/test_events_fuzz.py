"""Every RPC of EventsService, called through the edge with empty, hostile and garbage requests, answers
with a precise status: never UNKNOWN or INTERNAL (a crash), never a hang."""

from __future__ import annotations

import random
import uuid

import grpc
import pytest
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message

from athenaeum.events.v1 import events_pb2

pytestmark = pytest.mark.e2e
SERVICE = events_pb2.DESCRIPTOR.services_by_name["EventsService"]
CRASHES = {grpc.StatusCode.UNKNOWN, grpc.StatusCode.INTERNAL}
HOSTILE_STRINGS = [
    "",
    "\x00",
    "a\x00b",
    "\x1b[31m\r\n",
    "'; DROP TABLE events; --",
    "%_\\",
    "events/../../etc/passwd",
    "events/" + str(uuid.uuid4()),
    "users/me",
    "\u202e\U0001f600",
    "\ud800".encode("utf-8", "surrogatepass").decode("utf-8", "replace"),
    "x" * 70_000,
    'type = "a" AND actor = "\x00"',
    "occur_time > 9999-12-31T23:59:59Z",
    'attributes.a.b = "*"',
    'resource = "*"',
    "type",
]
HOSTILE_INTS = [0, -1, 1, 7, 2**31 - 1, -(2**31), 10**6]
SECONDS = [0, -1, -62_135_596_801, 253_402_300_800, 2**62, 1_796_000_000]


def fill(message: Message, rng: random.Random, depth: int = 0) -> Message:
    for field in message.DESCRIPTOR.fields:
        if rng.random() < 0.3:
            continue
        if field.message_type is not None and field.message_type.full_name == "google.protobuf.Timestamp":
            stamp = getattr(message, field.name)
            stamp.seconds = rng.choice(SECONDS)
            stamp.nanos = rng.choice([0, -1, 999_999_999, 10**9])
        elif field.message_type is not None and field.message_type.GetOptions().map_entry:
            target = getattr(message, field.name)
            for _ in range(rng.choice([1, 3, 100])):
                target[rng.choice(HOSTILE_STRINGS)[:200] + str(rng.random())] = rng.choice(HOSTILE_STRINGS)
        elif field.message_type is not None:
            if depth > 2:
                continue
            items = (
                [getattr(message, field.name)]
                if not field.is_repeated
                else [getattr(message, field.name).add() for _ in range(rng.choice([1, 2, 1001]))]
            )
            for item in items:
                fill(item, rng, depth + 1)
        elif field.type == FieldDescriptor.TYPE_STRING:
            value = rng.choice(HOSTILE_STRINGS)
            if field.is_repeated:
                getattr(message, field.name).extend([value] * rng.choice([1, 50]))
            else:
                setattr(message, field.name, value)
        elif field.type == FieldDescriptor.TYPE_ENUM:
            setattr(message, field.name, rng.choice([0, 1, 2, 3, 99, -5]))
        elif field.type in (FieldDescriptor.TYPE_INT32, FieldDescriptor.TYPE_INT64):
            setattr(message, field.name, rng.choice(HOSTILE_INTS))
    return message


def one_field_at_a_time(cls: type[Message]) -> list[Message]:
    """Each string field of the request (and of its event) alone set to each hostile string."""
    made = []
    for field in cls.DESCRIPTOR.fields:
        for value in HOSTILE_STRINGS[1:]:
            message = cls()
            if field.type == FieldDescriptor.TYPE_STRING and not field.is_repeated:
                setattr(message, field.name, value)
            elif field.message_type is not None and field.message_type.name == "Event":
                event = getattr(message, field.name).add() if field.is_repeated else getattr(message, field.name)
                event.type, event.subject, event.actor = "web.search", value, value
                event.occur_time.seconds = 1_796_000_000
            else:
                continue
            made.append(message)
    return made


def requests(method, rng: random.Random) -> list[bytes]:
    cls = events_pb2.DESCRIPTOR.message_types_by_name[method.input_type.name]._concrete_class
    structured = [cls().SerializeToString(), *(fill(cls(), rng).SerializeToString() for _ in range(12))]
    structured += [one.SerializeToString() for one in one_field_at_a_time(cls)]
    garbage = [bytes(rng.randrange(256) for _ in range(rng.choice([1, 7, 300]))) for _ in range(4)]
    return structured + garbage + [b"\x0a\xff\xff\xff\xff\x0f"]


def call(channel: grpc.Channel, method, payload: bytes, metadata) -> grpc.StatusCode:
    path = f"/{SERVICE.full_name}/{method.name}"
    identity = lambda data: data  # noqa: E731 - raw bytes in, raw bytes out
    try:
        if method.client_streaming:
            stub = channel.stream_stream(path, request_serializer=identity, response_deserializer=identity)
            list(stub(iter([payload, payload]), metadata=metadata, timeout=5))
        elif method.server_streaming:
            stub = channel.unary_stream(path, request_serializer=identity, response_deserializer=identity)
            for _ in stub(payload, metadata=metadata, timeout=0.3):
                pass
        else:
            stub = channel.unary_unary(path, request_serializer=identity, response_deserializer=identity)
            stub(payload, metadata=metadata, timeout=10)
    except grpc.RpcError as error:
        return error.code()
    return grpc.StatusCode.OK


@pytest.mark.parametrize("method", list(SERVICE.methods), ids=lambda m: m.name)
def test_no_request_crashes_the_service(mesh, admin, method) -> None:
    rng = random.Random(f"events-fuzz-{method.name}")
    crashes = []
    with grpc.insecure_channel(mesh.edge_grpc_target, options=[("grpc.max_send_message_length", 64 << 20)]) as channel:
        for payload in requests(method, rng):
            code = call(channel, method, payload, admin.metadata)
            if code in CRASHES:
                crashes.append((code, payload[:120]))
    assert crashes == []
