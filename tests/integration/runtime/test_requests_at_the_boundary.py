"""Through a real grpc.aio server with the runtime's interceptor: hostile bytes and fields never reach a
handler, and come back as INVALID_ARGUMENT naming the field, never UNKNOWN or INTERNAL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from athenaeum.catalog.v1 import catalog_pb2
from services.support.runtime.interceptors import ServerInterceptor

pytestmark = pytest.mark.integration
METHOD = "/athenaeum.catalog.v1.CatalogService/CreateBook"
seen: list[Any] = []


async def _create_book(request: catalog_pb2.CreateBookRequest, context: Any) -> catalog_pb2.Book:
    seen.append(request)
    return request.book


async def _serve(port: int, interceptor: ServerInterceptor) -> grpc.aio.Server:
    server = grpc.aio.server(interceptors=[interceptor])
    handler = grpc.unary_unary_rpc_method_handler(
        _create_book,
        request_deserializer=catalog_pb2.CreateBookRequest.FromString,
        response_serializer=catalog_pb2.Book.SerializeToString,
    )
    server.add_generic_rpc_handlers(
        (grpc.method_handlers_generic_handler("athenaeum.catalog.v1.CatalogService", {"CreateBook": handler}),)
    )
    server.add_insecure_port(f"127.0.0.1:{port}")
    await server.start()
    return server


@pytest.fixture
async def target(free_port_source) -> AsyncIterator[str]:
    port = next(free_port_source)
    server = await _serve(port, ServerInterceptor(default_deadline_seconds=5))
    yield f"127.0.0.1:{port}"
    await server.stop(None)


@pytest.fixture
async def self_checking_target(free_port_source) -> AsyncIterator[str]:
    """The method is one whose servicer checks every field itself (server.served's checked_by_servicer)."""
    port = next(free_port_source)
    interceptor = ServerInterceptor(default_deadline_seconds=5, checked_by_servicer=frozenset({METHOD}))
    server = await _serve(port, interceptor)
    yield f"127.0.0.1:{port}"
    await server.stop(None)


async def _call(target: str, body: bytes) -> grpc.aio.AioRpcError | None:
    async with grpc.aio.insecure_channel(target) as channel:
        try:
            await channel.unary_unary(METHOD)(body, timeout=5)
        except grpc.aio.AioRpcError as error:
            return error
    return None


def _violations(error: grpc.aio.AioRpcError) -> list[str]:
    status = rpc_status.from_call(error)
    assert status is not None
    for detail in status.details:
        if detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            bad_request = error_details_pb2.BadRequest()
            detail.Unpack(bad_request)
            return [violation.field for violation in bad_request.field_violations]
    return []


async def test_garbage_bytes_are_invalid_argument_without_internals(target: str) -> None:
    seen.clear()
    error = await _call(target, b"\xff\xff\xff\xff garbage")
    assert error is not None and error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "Decode" not in (error.details() or "") and _violations(error) == ["request"]
    assert seen == []


async def test_a_nul_in_a_nested_field_is_invalid_argument_naming_it(target: str) -> None:
    seen.clear()
    body = catalog_pb2.CreateBookRequest(book=catalog_pb2.Book(title="ok", authors=["a", "b\x00"])).SerializeToString()
    error = await _call(target, body)
    assert error is not None and error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert _violations(error) == ["book.authors[1]"] and seen == []


async def test_a_clean_request_reaches_the_handler(target: str) -> None:
    seen.clear()
    body = catalog_pb2.CreateBookRequest(book=catalog_pb2.Book(title="Dune")).SerializeToString()
    assert await _call(target, body) is None and len(seen) == 1


async def test_a_method_its_servicer_checks_gets_the_request_unchecked(self_checking_target: str) -> None:
    seen.clear()
    body = catalog_pb2.CreateBookRequest(book=catalog_pb2.Book(title="ok", authors=["b\x00"])).SerializeToString()
    assert await _call(self_checking_target, body) is None
    assert [request.book.authors[0] for request in seen] == ["b\x00"]  # the servicer's rules decide


async def test_a_method_its_servicer_checks_still_refuses_garbage_bytes(self_checking_target: str) -> None:
    seen.clear()
    error = await _call(self_checking_target, b"\xff\xff\xff\xff garbage")
    assert error is not None and error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert _violations(error) == ["request"] and seen == []
