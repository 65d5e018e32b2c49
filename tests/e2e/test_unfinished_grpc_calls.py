"""gRPC calls through the edge that never finish their request hold nothing in a service, nor take its calls
from anyone else; a reader holds a few record streams (client streams) open at once, not a thousand.

A call whose request stream stays open, and a call whose last message claims more bytes than the stream
carried (the services' gRPC server leaves that one unanswered), each held one of the edge's concurrent calls
to the service for the route's whole stream duration. A thousand of them, well within one client's rate
limit, made every call to the catalog 503 for everyone. The calls are written frame by frame on a plain
HTTP/2 connection (no gRPC library sends a broken one), from loopback addresses of their own so the session's
rate-limit buckets are left alone.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
import time

import grpc
import httpx
import pytest
from google.protobuf import timestamp_pb2

from athenaeum.events.v1 import events_pb2, events_pb2_grpc
from services.events.domain.streams import MOST_OPEN_PER_READER
from services.support.mesh import registry
from services.support.mesh.envoy_edge_framing import GRPC_PREFIX_BYTES

pytestmark = pytest.mark.e2e

SEARCH = b"/athenaeum.catalog.v1.CatalogService/SearchBooks"
WATCH = b"/athenaeum.events.v1.EventsService/WatchEvents"
MESSAGE = b"\x0a\x03abc"  # SearchBooksRequest{query: "abc"}
CLAIMS_MORE = b"\x00" + struct.pack(">I", 1000) + MESSAGE
"""A gRPC message prefix saying 1,000 bytes follow, and 5 do."""
ATTACKERS = [f"127.0.0.{host}" for host in range(61, 73)]
CALLS_PER_ATTACKER = 100
"""1,200 calls in all, above Envoy's 1,024 concurrent calls per cluster, each address within its read burst."""
DATA, HEADERS = 0, 1
END_STREAM, END_HEADERS = 0x1, 0x4


def _frame(kind: int, flags: int, stream: int, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload))[1:] + bytes([kind, flags]) + struct.pack(">I", stream) + payload


def _literal(name: bytes, value: bytes) -> bytes:
    """An HPACK header field without indexing, neither string Huffman-coded (each under 127 bytes)."""
    return b"\x00" + bytes([len(name)]) + name + bytes([len(value)]) + value


def _call(stream: int, body: bytes, *, finished: bool, path: bytes = SEARCH) -> bytes:
    fields = [(b":method", b"POST"), (b":scheme", b"http"), (b":path", path), (b":authority", b"edge"),
              (b"content-type", b"application/grpc"), (b"te", b"trailers")]  # fmt: skip
    headers = b"".join(_literal(name, value) for name, value in fields)
    return _frame(HEADERS, END_HEADERS, stream, headers) + _frame(DATA, END_STREAM if finished else 0, stream, body)


PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + _frame(4, 0, 0, b"")


def _frames(data: bytes) -> list[tuple[int, int, int]]:
    """(type, flags, stream) of each whole frame in `data`."""
    frames, offset = [], 0
    while offset + 9 <= len(data):
        length = int.from_bytes(data[offset : offset + 3], "big")
        kind, flags = data[offset + 3], data[offset + 4]
        frames.append((kind, flags, int.from_bytes(data[offset + 5 : offset + 9], "big") & 0x7FFFFFFF))
        offset += 9 + length
    return frames


@pytest.mark.parametrize("path", [SEARCH, WATCH], ids=["unary", "watch"])
def test_a_message_claiming_more_bytes_than_were_sent_is_answered_at_once(mesh, path: bytes) -> None:
    """A watch's call was held for the idle timeout, 5 minutes; a unary one for the stream duration, 30 s."""
    with socket.create_connection(("127.0.0.1", mesh.topology.edge_port), timeout=10) as connection:
        connection.sendall(PREFACE + _call(1, CLAIMS_MORE, finished=True, path=path))
        received, deadline = b"", time.monotonic() + 10
        while (HEADERS, END_HEADERS | END_STREAM, 1) not in _frames(received) and time.monotonic() < deadline:
            with contextlib.suppress(TimeoutError):
                connection.settimeout(max(deadline - time.monotonic(), 0.01))
                received += connection.recv(65536)
    frames = _frames(received)
    assert (HEADERS, END_HEADERS | END_STREAM, 1) in frames, "no answer in 10 s"
    assert not [frame for frame in frames if frame[0] == DATA and frame[2] == 1], "a trailers-only refusal"


async def _hold(port: int, source: str) -> None:
    """Calls from `source` that never end well: half still sending their message, half ended inside it."""
    _reader, writer = await asyncio.open_connection("127.0.0.1", port, local_addr=(source, 0))
    writer.write(PREFACE)
    for index in range(CALLS_PER_ATTACKER):
        writer.write(_call(1 + 2 * index, CLAIMS_MORE, finished=bool(index % 2)))
    await writer.drain()
    try:
        await asyncio.sleep(3600)
    finally:
        writer.close()


async def test_a_thousand_unfinished_calls_leave_the_catalog_to_everyone_else(mesh) -> None:
    port = mesh.topology.edge_port
    holders = [asyncio.create_task(_hold(port, source)) for source in ATTACKERS]
    try:
        await asyncio.sleep(3)  # every call sent and taken in by the edge
        async with httpx.AsyncClient(base_url=mesh.edge_url, timeout=10) as client:
            answers = [(await client.get("/v1/books:search", params={"query": "abc"})).status_code for _ in range(5)]
        assert answers == [200] * 5, "other callers' calls refused while the unfinished ones were held"
    finally:
        for holder in holders:
            holder.cancel()
        await asyncio.gather(*holders, return_exceptions=True)


def test_a_call_over_what_the_edge_holds_is_resource_exhausted(mesh) -> None:
    catalog = next(spec for spec in registry.SERVICES if spec.name == "catalog")
    query = b"q" * (catalog.max_message_bytes + GRPC_PREFIX_BYTES)
    request = b"\x0a" + _encode_varint(len(query)) + query
    options = [("grpc.max_send_message_length", -1)]
    with grpc.insecure_channel(f"127.0.0.1:{mesh.topology.edge_port}", options=options) as channel:
        search = channel.unary_unary(SEARCH.decode(), request_serializer=None, response_deserializer=None)
        with pytest.raises(grpc.RpcError) as refused:
            search(request, timeout=30)
    assert refused.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED, refused.value.details()  # Envoy's: UNKNOWN


def _encode_varint(value: int) -> bytes:
    out = bytearray()
    while value > 0x7F:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    return bytes([*out, value])


async def test_a_reader_holds_a_few_record_streams_open_not_a_thousand(mesh, new_reader) -> None:
    """A record stream is a client stream: the edge cannot wait for it to end, so the events service counts the
    streams each reader holds (a fifth is refused at once) and a thousand silent ones take no call from anyone."""
    reader = new_reader()
    silence = asyncio.Event()

    async def nothing_yet():
        await silence.wait()
        yield events_pb2.StreamRecordEventsRequest()

    async with grpc.aio.insecure_channel(mesh.edge_grpc_target) as channel:
        stub = events_pb2_grpc.EventsServiceStub(channel)
        held = [stub.StreamRecordEvents(nothing_yet(), metadata=reader.metadata) for _ in range(MOST_OPEN_PER_READER)]
        try:
            await asyncio.sleep(1)  # each call reached the service and waits for its first batch
            refused = stub.StreamRecordEvents(nothing_yet(), metadata=reader.metadata, timeout=10)
            with pytest.raises(grpc.aio.AioRpcError) as error:
                await refused.read()
            assert error.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED, error.value.details()
        finally:
            for call in held:
                call.cancel()
        await asyncio.sleep(1)  # the cancels reach the service
        batch = events_pb2.StreamRecordEventsRequest(events=[_an_event()])
        answers = [
            answer async for answer in stub.StreamRecordEvents(_once(batch), metadata=reader.metadata, timeout=10)
        ]
        assert [answer.accepted_count for answer in answers] == [1], "streams that ended are no longer counted"


async def _once(request):
    yield request


def _an_event():
    stamp = timestamp_pb2.Timestamp()
    stamp.GetCurrentTime()
    return events_pb2.Event(type="reader.page_viewed", occur_time=stamp)
