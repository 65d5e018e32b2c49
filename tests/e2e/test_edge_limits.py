"""What the edge lets in: bounded headers, URLs, bodies and fields, and rate limits per class of route.

Each answer is the edge's google.rpc.Status JSON. Rate limits are per client address, so the tests that
exhaust a bucket call from addresses of their own on the loopback network (127.0.0.0/8 is all loopback on
Linux): the rest of the session, calling from 127.0.0.1, keeps its budget.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
import uuid
from collections import Counter
from datetime import UTC, datetime

import grpc
import httpx
import pytest
from google.protobuf import field_mask_pb2, timestamp_pb2
from test_rest_errors import assert_status_json

from athenaeum.catalog.v1 import catalog_pb2, catalog_pb2_grpc
from athenaeum.events.v1 import events_pb2, events_pb2_grpc
from athenaeum.users.v1 import users_pb2, users_pb2_grpc
from services.support.mesh.envoy_edge_guard import MAX_REQUEST_BODY_BYTES, REQUEST_HEADERS_SECONDS, route_classes
from services.support.mesh.envoy_edge_headers import MAX_REQUEST_HEADERS
from services.support.mesh.registry import EDGE_RATE_LIMITS
from services.support.runtime.wire import timestamp

pytestmark = pytest.mark.e2e
RESOURCE_EXHAUSTED, INVALID_ARGUMENT = 8, 3


def test_a_body_over_a_mebibyte_is_413_every_time(edge: httpx.Client) -> None:
    body = {"email": "a@example.org", "password": "x" * (MAX_REQUEST_BODY_BYTES + 1)}
    for _ in range(3):  # the issue saw a retry of an oversized body go through
        assert_status_json(edge.post("/v1/auth/login", json=body), 413, RESOURCE_EXHAUSTED)


def test_ten_megabytes_are_413_not_a_services_429(edge: httpx.Client) -> None:
    response = edge.post("/v1/auth/login", content=b'{"email": "' + b"a" * 10_000_000 + b'"}')
    assert_status_json(response, 413, RESOURCE_EXHAUSTED)


def test_a_16_kb_query_string_is_431(edge: httpx.Client) -> None:
    response = edge.get("/v1/books:search", params={"query": "a" * 16_000})
    assert_status_json(response, 431, RESOURCE_EXHAUSTED)


def test_oversized_headers_are_431(edge: httpx.Client) -> None:
    response = edge.get("/v1/books", headers={"x-padding": "a" * 9_000})
    assert_status_json(response, 431, RESOURCE_EXHAUSTED)


def test_headers_far_over_the_cap_are_still_a_431_status(edge: httpx.Client) -> None:
    response = edge.get("/v1/books", headers={"x-padding": "a" * 70_000})
    assert_status_json(response, 431, RESOURCE_EXHAUSTED)


@pytest.mark.parametrize("size", [9_000, 20_000, 70_000])
async def test_grpc_metadata_over_the_cap_is_resource_exhausted_for_that_call_alone(mesh, librarian, size) -> None:
    """Over HTTP/2 the codec's cap reset the call (INTERNAL "Stream removed"), and a 70 kB field ended the
    connection (GOAWAY COMPRESSION_ERROR) and every call on it: a watch on the same channel died with it."""
    kind = f"test.cap{uuid.uuid4().hex[:8]}"
    async with grpc.aio.insecure_channel(mesh.edge_grpc_target) as channel:
        events = events_pb2_grpc.EventsServiceStub(channel)
        watch = events.WatchEvents(events_pb2.WatchEventsRequest(type=kind), metadata=librarian.metadata)
        await asyncio.sleep(0.5)  # the watch is set up before the oversized call
        padded = (*librarian.metadata, ("x-padding", "a" * size))
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            request = catalog_pb2.ListBooksRequest(page_size=1)
            await catalog_pb2_grpc.CatalogServiceStub(channel).ListBooks(request, metadata=padded, timeout=10)
        assert refused.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED, refused.value.details()
        assert "8 KiB" in (refused.value.details() or "")
        event = events_pb2.Event(type=kind, occur_time=timestamp(datetime.now(UTC)))
        await events.RecordEvent(events_pb2.RecordEventRequest(event=event), metadata=librarian.metadata, timeout=10)
        assert (await asyncio.wait_for(watch.read(), 10)).type == kind  # the watch lived on
        watch.cancel()


def _with_headers(edge: httpx.Client, count: int, headers: dict[str, str] | None = None) -> dict[str, str]:
    """Small headers to make `count` of the client's own (Host not counted, as no pseudo-header is)."""
    already = len(edge.build_request("GET", "/", headers=headers).headers) - 1
    return {**(headers or {}), **{f"x-h{i}": "1" for i in range(count - already)}}


@pytest.mark.parametrize("count", [90, 98, MAX_REQUEST_HEADERS])
def test_up_to_a_hundred_small_headers_pass_the_edge_and_the_sidecar(edge: httpx.Client, count: int) -> None:
    """86 to 98 passed the edge and its sidecar reset them: 503 UNAVAILABLE, which clients retry."""
    response = edge.get("/v1/books", params={"page_size": 1}, headers=_with_headers(edge, count))
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("count", [MAX_REQUEST_HEADERS + 10, 300])
def test_more_than_a_hundred_headers_are_431(edge: httpx.Client, count: int) -> None:
    body = assert_status_json(edge.get("/v1/books", headers=_with_headers(edge, count)), 431, RESOURCE_EXHAUSTED)
    assert f"more than {MAX_REQUEST_HEADERS} request headers" in body["message"]


@pytest.mark.parametrize(("count", "refused"), [(90, False), (MAX_REQUEST_HEADERS + 10, True), (400, True)])
async def test_grpc_metadata_of_many_entries_is_answered_not_unavailable_or_reset(
    mesh, librarian, count: int, refused: bool
) -> None:
    """90 entries were UNAVAILABLE (the sidecar's reset, retried by clients), 100 and more INTERNAL (RST_STREAM)."""
    metadata = (*librarian.metadata, *((f"x-h{i}", "1") for i in range(count)))
    async with grpc.aio.insecure_channel(mesh.edge_grpc_target) as channel:
        call = catalog_pb2_grpc.CatalogServiceStub(channel).ListBooks(
            catalog_pb2.ListBooksRequest(page_size=1), metadata=metadata, timeout=10
        )
        if not refused:
            await call
            return
        with pytest.raises(grpc.aio.AioRpcError) as error:
            await call
    assert error.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED, error.value.details()
    assert f"more than {MAX_REQUEST_HEADERS}" in (error.value.details() or "")


def test_a_query_within_the_header_cap_but_over_its_field_limit_is_400_naming_the_field(edge: httpx.Client) -> None:
    body = assert_status_json(edge.get("/v1/books:search", params={"query": "a" * 3_000}), 400, INVALID_ARGUMENT)
    assert "query" in body["message"] and "a" * 100 not in body["message"]  # the value is never echoed


@pytest.mark.parametrize(
    ("book", "field"),
    [
        ({"title": "t" * 501}, "book.title"),
        ({"title": "Many hands", "authors": [f"Author {i}" for i in range(51)]}, "book.authors"),
        ({"title": "Long name", "authors": ["x" * 201]}, "book.authors[0]"),
        ({"title": "Nul\u0000byte"}, "book.title"),
    ],
)
def test_a_book_beyond_its_field_limits_is_400_naming_the_field(
    edge: httpx.Client, librarian, book: dict, field: str
) -> None:
    body = assert_status_json(edge.post("/v1/books", json=book, headers=librarian.headers), 400, INVALID_ARGUMENT)
    violations = [v for d in body["details"] for v in d.get("field_violations", [])]
    assert [v["field"] for v in violations] == [field]


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/v1/auth/login", {"email": "a\u0000@example.org", "password": "whatever-it-is"}),
        ("/v1/auth/register", {"email": "b\u0000@example.org", "password": "Correct-Horse-42"}),
    ],
)
def test_a_nul_byte_is_400_anonymously_not_500(edge: httpx.Client, path: str, body: dict) -> None:
    assert_status_json(edge.post(path, json=body), 400, INVALID_ARGUMENT)


def test_a_nul_in_a_search_or_a_barcode_is_400(edge: httpx.Client, librarian) -> None:
    assert_status_json(edge.get("/v1/books:search", params={"query": "war\u0000"}), 400, INVALID_ARGUMENT)
    lookup = edge.get("/v1/copies:lookup", params={"barcode": "31\u0000"}, headers=librarian.headers)
    assert_status_json(lookup, 400, INVALID_ARGUMENT)


def test_a_long_barcode_is_not_echoed(edge: httpx.Client, librarian) -> None:
    response = edge.get("/v1/copies:lookup", params={"barcode": "7" * 5_000}, headers=librarian.headers)
    body = assert_status_json(response, 400, INVALID_ARGUMENT)
    assert "7" * 100 not in response.text and len(body["message"]) < 200


def test_an_out_of_range_timestamp_is_invalid_argument(mesh, librarian, reader) -> None:
    """JSON cannot spell a year outside 1-9999 (the transcoder refuses it); gRPC can."""
    user = users_pb2.User(name=reader.name, expire_time=timestamp_pb2.Timestamp(seconds=-(10**12)))
    request = users_pb2.UpdateUserRequest(user=user, update_mask=field_mask_pb2.FieldMask(paths=["expire_time"]))
    with grpc.insecure_channel(mesh.edge_grpc_target) as channel, pytest.raises(grpc.RpcError) as refused:
        users_pb2_grpc.UsersServiceStub(channel).UpdateUser(request, metadata=librarian.metadata, timeout=10)
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "user.expire_time" in (refused.value.details() or "")


# Rate limits -----------------------------------------------------------------------------------------------


async def _flood(address: str, requests: int, method: str, path: str, **kwargs) -> list[httpx.Response]:
    """`requests` calls at once from `address`, each on its own connection."""
    transport = httpx.AsyncHTTPTransport(local_address=address, limits=httpx.Limits(max_connections=requests))
    async with httpx.AsyncClient(base_url=_edge_url, transport=transport, timeout=60) as client:
        return await asyncio.gather(*(client.request(method, path, **kwargs) for _ in range(requests)))


_edge_url = ""


@pytest.fixture(autouse=True)
def _edge_address(mesh) -> None:
    global _edge_url
    _edge_url = mesh.edge_url


def _limited(responses: list[httpx.Response]) -> list[httpx.Response]:
    refused = [response for response in responses if response.status_code == 429]
    for response in refused:
        assert response.headers["retry-after"] == "1"
        assert_status_json(response, 429, RESOURCE_EXHAUSTED)
    return refused


async def test_sign_in_style_calls_are_limited_per_client_address(edge: httpx.Client) -> None:
    burst = EDGE_RATE_LIMITS.auth.burst
    flood = await _flood("127.0.0.21", burst + 30, "POST", "/v1/auth/refresh", json={"refresh_token": "spent"})
    assert len(_limited(flood)) >= 25, Counter(r.status_code for r in flood)
    assert Counter(r.status_code for r in flood if r.status_code != 429) == {401: len(flood) - len(_limited(flood))}
    # Another client is not affected: the owner of an account can still sign in from elsewhere.
    (elsewhere,) = await _flood("127.0.0.22", 1, "POST", "/v1/auth/refresh", json={"refresh_token": "spent"})
    assert elsewhere.status_code == 401


async def test_reads_are_limited_per_client_address_generously(edge: httpx.Client) -> None:
    burst = EDGE_RATE_LIMITS.read.burst
    missing = f"/v1/books/{uuid.uuid4()}"
    flood = await _flood("127.0.0.23", burst * 2, "GET", missing)
    assert len(_limited(flood)) >= burst // 2, Counter(r.status_code for r in flood)
    assert {r.status_code for r in flood} == {404, 429}


async def test_writes_are_limited_per_user_not_per_address(edge: httpx.Client, new_reader) -> None:
    flooder, bystander = new_reader(), new_reader()
    burst = EDGE_RATE_LIMITS.write.burst
    hold = {"patron": flooder.name, "book": "not-a-book"}
    flood = await _flood("127.0.0.24", burst + 60, "POST", "/v1/holds", json=hold, headers=flooder.headers)
    assert len(_limited(flood)) >= 40, Counter(r.status_code for r in flood)
    hold = {"patron": bystander.name, "book": "not-a-book"}
    (other,) = await _flood("127.0.0.24", 1, "POST", "/v1/holds", json=hold, headers=bystander.headers)
    assert other.status_code == 400, other.text  # same address, another user: the service answered


def test_every_rpc_is_in_exactly_one_class_and_only_sign_in_style_ones_are_auth() -> None:
    classes = route_classes()
    paths = [path for members in classes.values() for path in members]
    assert len(paths) == len(set(paths))
    assert {path.rsplit("/", 1)[1] for path in classes["auth"]} == {
        "Register", "Login", "RefreshToken", "Logout", "RequestPasswordReset", "ResetPassword"
    }  # fmt: skip


def test_a_client_too_slow_with_its_headers_loses_the_connection_and_others_are_served(mesh, edge) -> None:
    """Slowloris: one client holding thousands of connections with half-sent headers filled the edge's
    connection cap, and everyone was refused. A connection whose headers are not in within the timeout goes."""
    host, port = mesh.edge_url.removeprefix("http://").rsplit(":", 1)
    slow = [socket.create_connection((host, int(port)), timeout=REQUEST_HEADERS_SECONDS + 10) for _ in range(20)]
    for connection in slow:
        connection.sendall(b"GET /v1/books HTTP/1.1\r\nHost: edge\r\nX-Slow: ")
    assert edge.get("/v1/books", params={"page_size": 1}).status_code == 200
    time.sleep(REQUEST_HEADERS_SECONDS + 1)
    for connection in slow:
        with connection, contextlib.suppress(ConnectionResetError):
            answer = connection.recv(4096)  # the edge's 408, or the connection closed
            assert answer == b"" or answer.startswith(b"HTTP/1.1 408"), answer[:100]
