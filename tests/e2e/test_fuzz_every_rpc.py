"""Every RPC of every service, through the edge, with empty, hostile and garbage requests, as anonymous, a
reader and an admin: no answer may be UNKNOWN, INTERNAL or another server-side failure, no stream may be
reset, and every service is still SERVING afterwards.

Hostile means: NUL bytes in every string, 100,000 items in every list, a megabyte in every string,
Timestamps outside years 1-9999 and enum numbers no enum has, the largest value of every number type (and
infinity) with "1e309" in every string (an amount, a page token: past any column and any Decimal's cents).
Garbage means bytes that are no protobuf message at all. The calls go out from an address of their own (a
forwarder on 127.0.0.31), so the edge's rate-limit buckets of the rest of the session's clients are left as
they were; a call the edge rate-limits is sent again a moment later, so that every request does reach its
service.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import grpc
import pytest
from google.protobuf import message_factory
from google.protobuf.descriptor import Descriptor, FieldDescriptor, MethodDescriptor
from google.protobuf.message import Message

from services.support.launcher.readiness import grpc_health_status
from services.support.mesh import registry
from services.support.mesh.envoy_edge_errors import GRPC_RATE_LIMITED
from services.support.runtime.access import service_descriptor

pytestmark = pytest.mark.e2e

FUZZ_SOURCE_ADDRESS = "127.0.0.31"
SERVER_FAILURES = {
    grpc.StatusCode.UNKNOWN,
    grpc.StatusCode.INTERNAL,
    grpc.StatusCode.UNAVAILABLE,
    grpc.StatusCode.DATA_LOSS,
    grpc.StatusCode.DEADLINE_EXCEEDED,
    grpc.StatusCode.CANCELLED,  # a reset stream
}
"""What no request may get (UNIMPLEMENTED is an honest answer of the services not built yet)."""
LIST_ITEMS = 100_000
MEGABYTE = 1_000_000
OUT_OF_RANGE_SECONDS = 10**13
NO_SUCH_ENUM_NUMBER = 9_999
GARBAGE = b"\x0a\xff\xff\xff\xff\x0f\x12\x03abc\xff"
"""A length-delimited field claiming more bytes than follow, then an invalid tag: no message of any type."""
DEPTH = 3
CALL_SECONDS = 30.0
EDGE_RATE_LIMITED = GRPC_RATE_LIMITED


def _fill(message: Message, value_of: Callable[[FieldDescriptor], Any | None], depth: int = DEPTH) -> Message:
    """Sets every field `value_of` gives a value for, recursing into nested messages (not the well-known ones
    `value_of` handles itself) down to `depth`."""
    for field in message.DESCRIPTOR.fields:
        value = value_of(field)
        if value is not None:
            if field.is_repeated:
                getattr(message, field.name).extend(value)
            elif field.message_type is not None:
                getattr(message, field.name).CopyFrom(value)
            else:
                setattr(message, field.name, value)
        elif field.message_type is not None and depth > 0 and not _is_map(field):
            nested = _fill(_new(field.message_type), value_of, depth - 1)
            if field.is_repeated:
                getattr(message, field.name).append(nested)
            else:
                getattr(message, field.name).CopyFrom(nested)
    return message


def _new(descriptor: Descriptor) -> Message:
    return message_factory.GetMessageClass(descriptor)()


def _is_map(field: FieldDescriptor) -> bool:
    return field.message_type is not None and field.message_type.GetOptions().map_entry


def _is_timestamp(field: FieldDescriptor) -> bool:
    return field.message_type is not None and field.message_type.full_name == "google.protobuf.Timestamp"


def _nul(field: FieldDescriptor) -> Any | None:
    if field.type != FieldDescriptor.TYPE_STRING:
        return None
    return ["evil\x00value"] if field.is_repeated else "evil\x00value"


def _long_lists(field: FieldDescriptor) -> Any | None:
    if not field.is_repeated or _is_map(field):
        return None
    if field.type == FieldDescriptor.TYPE_STRING:
        return ["x"] * LIST_ITEMS
    if field.message_type is not None:
        return [_new(field.message_type) for _ in range(LIST_ITEMS)]
    if field.type == FieldDescriptor.TYPE_BOOL:
        return [True] * LIST_ITEMS
    return [1] * LIST_ITEMS


def _megabyte_strings(field: FieldDescriptor) -> Any | None:
    if field.type != FieldDescriptor.TYPE_STRING:
        return None
    return ["m" * MEGABYTE] if field.is_repeated else "m" * MEGABYTE


def _impossible_times_and_enums(field: FieldDescriptor) -> Any | None:
    if _is_timestamp(field):
        stamp = _new(field.message_type)
        stamp.seconds, stamp.nanos = OUT_OF_RANGE_SECONDS, 0
        return [stamp] if field.is_repeated else stamp
    if field.type == FieldDescriptor.TYPE_ENUM:
        return [NO_SUCH_ENUM_NUMBER] if field.is_repeated else NO_SUCH_ENUM_NUMBER
    return None


_LARGEST = {
    FieldDescriptor.TYPE_INT32: 2**31 - 1,
    FieldDescriptor.TYPE_SINT32: 2**31 - 1,
    FieldDescriptor.TYPE_SFIXED32: 2**31 - 1,
    FieldDescriptor.TYPE_UINT32: 2**32 - 1,
    FieldDescriptor.TYPE_FIXED32: 2**32 - 1,
    FieldDescriptor.TYPE_INT64: 2**63 - 1,
    FieldDescriptor.TYPE_SINT64: 2**63 - 1,
    FieldDescriptor.TYPE_SFIXED64: 2**63 - 1,
    FieldDescriptor.TYPE_UINT64: 2**64 - 1,
    FieldDescriptor.TYPE_FIXED64: 2**64 - 1,
    FieldDescriptor.TYPE_DOUBLE: float("inf"),
    FieldDescriptor.TYPE_FLOAT: float("inf"),
    FieldDescriptor.TYPE_STRING: "1e309",
}


def _largest_numbers(field: FieldDescriptor) -> Any | None:
    if _is_timestamp(field) or field.type not in _LARGEST:
        return None
    value = _LARGEST[field.type]
    return [value] if field.is_repeated else value


HOSTILE: dict[str, Callable[[FieldDescriptor], Any | None]] = {
    "nul": _nul,
    "100k-lists": _long_lists,
    "1mb-strings": _megabyte_strings,
    "impossible-times-and-enums": _impossible_times_and_enums,
    "largest-numbers": _largest_numbers,
}


def payloads(method: MethodDescriptor) -> dict[str, bytes]:
    """The requests every RPC gets, serialized: empty, each hostile kind, and garbage."""
    requests = {"empty": b""}
    for kind, value_of in HOSTILE.items():
        requests[kind] = _fill(_new(method.input_type), value_of).SerializeToString()
    requests["garbage"] = GARBAGE
    return requests


def every_rpc() -> list[MethodDescriptor]:
    return [method for spec in registry.SERVICES for name in spec.grpc_services
            for method in service_descriptor(name).methods]  # fmt: skip


@dataclass(frozen=True)
class Outcome:
    method: str
    kind: str
    caller: str
    code: grpc.StatusCode
    details: str


async def _call_once(channel: grpc.aio.Channel, method: MethodDescriptor, body: bytes, metadata) -> grpc.StatusCode:
    path = f"/{method.containing_service.full_name}/{method.name}"
    raw = {"request_serializer": None, "response_deserializer": None}
    if method.client_streaming:
        call = channel.stream_unary(path, **raw)(_one(body), metadata=metadata, timeout=CALL_SECONDS)
        await call
    elif method.server_streaming:
        stream = channel.unary_stream(path, **raw)(body, metadata=metadata, timeout=5)
        with contextlib.suppress(asyncio.TimeoutError):
            async with asyncio.timeout(3):  # a valid watch stays open: that is no failure
                async for _ in stream:
                    pass
        stream.cancel()
        return grpc.StatusCode.OK
    else:
        await channel.unary_unary(path, **raw)(body, metadata=metadata, timeout=CALL_SECONDS)
    return grpc.StatusCode.OK


async def _one(body: bytes) -> AsyncIterator[bytes]:
    yield body


async def call(channel, method: MethodDescriptor, kind: str, body: bytes, caller: str, metadata) -> Outcome:
    for _ in range(60):
        try:
            code, details = await _call_once(channel, method, body, metadata), ""
        except grpc.aio.AioRpcError as error:
            code, details = error.code(), error.details() or ""
        if not (code == grpc.StatusCode.RESOURCE_EXHAUSTED and details == EDGE_RATE_LIMITED):
            break
        await asyncio.sleep(1)  # the edge's bucket for this class refills within a second or so
    return Outcome(f"{method.containing_service.name}/{method.name}", kind, caller, code, details[:200])


@contextlib.asynccontextmanager
async def forwarder(target_port: int, source: str) -> AsyncIterator[int]:
    """A TCP forwarder on a free loopback port whose connections reach the edge from `source`."""

    async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        writer.close()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", target_port, local_addr=(source, 0))
        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()


async def test_no_request_to_any_rpc_breaks_a_service(mesh, reader, disposable_admin) -> None:
    callers = {
        "anonymous": (),
        "reader": reader.metadata,
        "admin": disposable_admin.metadata,
    }
    pids = {name: mesh.process(name).pid for name in mesh.services}
    limit = asyncio.Semaphore(8)
    async with forwarder(mesh.topology.edge_port, FUZZ_SOURCE_ADDRESS) as port:
        options = [("grpc.max_send_message_length", -1), ("grpc.max_receive_message_length", -1)]
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}", options=options) as channel:

            async def guarded(*args: Any) -> Outcome:
                async with limit:
                    return await call(channel, *args)

            outcomes = await asyncio.gather(
                *(
                    guarded(method, kind, body, caller, metadata)
                    for method in every_rpc()
                    for kind, body in payloads(method).items()
                    for caller, metadata in callers.items()
                )
            )
    failures = [outcome for outcome in outcomes if outcome.code in SERVER_FAILURES]
    assert not failures, "\n".join(map(str, failures[:20]))
    assert len(outcomes) == len(every_rpc()) * (len(HOSTILE) + 2) * len(callers)
    assert {name: grpc_health_status(mesh.app_target(name)) for name in mesh.services} == dict.fromkeys(
        mesh.services, "SERVING"
    )
    assert {name: mesh.process(name).pid for name in mesh.services} == pids, "no service restarted"
