"""The runtime's one interceptor, applied as `serve` applies it (each handler wrapped once, at registration):
what it keeps per method never leaks from one call into the next, the access policy and the boundary check
still run on every call, and the request log keeps every failure while it samples the successes."""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import grpc
import pytest

from athenaeum.catalog.v1 import catalog_pb2
from services.support.runtime import interceptors
from services.support.runtime.auth import AccessPolicy, RevocationList
from services.support.runtime.callers import current_caller
from services.support.runtime.errors import NotFound
from services.support.runtime.identity import (
    ACCESS_TOKEN_AUDIENCE,
    ACCESS_TOKEN_ISSUER,
    CLAIMS_HEADER,
    EDGE,
    PUBLIC,
    STAFF,
    current_identity,
    role_in,
    spiffe_id,
)
from services.support.runtime.interceptors import RequestLog, ServerInterceptor

pytestmark = pytest.mark.integration
SERVICE = "athenaeum.catalog.v1.CatalogService"
GET_BOOK, CREATE_BOOK, DELETE_BOOK = (f"/{SERVICE}/{m}" for m in ("GetBook", "CreateBook", "DeleteBook"))
RULES = {GET_BOOK: PUBLIC, CREATE_BOOK: role_in(STAFF)}  # DeleteBook has no rule: nobody may call it
REVOKED_SESSION = "session-signed-out"


async def _get_book(request: catalog_pb2.GetBookRequest, context: Any) -> catalog_pb2.Book:
    """Answers who it thinks is calling, so a test sees what the interceptor set for this call."""
    if request.name == "books/missing":
        raise NotFound("no such book", reason="BOOK_NOT_FOUND")
    user = current_identity()
    return catalog_pb2.Book(name=request.name, title=user.subject if user else "", subtitle=current_caller.get())


async def _create_book(request: catalog_pb2.CreateBookRequest, context: Any) -> catalog_pb2.Book:
    identity = current_identity()
    assert identity is not None
    return catalog_pb2.Book(title=request.book.title, subtitle=identity.subject)


def _handlers() -> dict[str, grpc.RpcMethodHandler]:
    def unary(behavior: Any, request: Any) -> grpc.RpcMethodHandler:
        return grpc.unary_unary_rpc_method_handler(
            behavior, request_deserializer=request.FromString, response_serializer=catalog_pb2.Book.SerializeToString
        )

    return {
        "GetBook": unary(_get_book, catalog_pb2.GetBookRequest),
        "CreateBook": unary(_create_book, catalog_pb2.CreateBookRequest),
        "DeleteBook": unary(_create_book, catalog_pb2.DeleteBookRequest),
    }


@pytest.fixture
async def target(free_port_source) -> AsyncIterator[str]:
    async for address in _serve(free_port_source, trusted=True):
        yield address


@pytest.fixture
async def untrusted_target(free_port_source) -> AsyncIterator[str]:
    """As on a TCP listener anyone local can reach: what the sidecar would forward is not believed."""
    async for address in _serve(free_port_source, trusted=False):
        yield address


async def _serve(free_port_source, *, trusted: bool) -> AsyncIterator[str]:
    revocations = RevocationList()
    revocations.revoke(REVOKED_SESSION, datetime.now(UTC) + timedelta(hours=1))
    interceptor = ServerInterceptor(
        default_deadline_seconds=5,
        access=AccessPolicy(RULES, revocations),
        request_log=RequestLog(sample_ratio=0.0, slow_seconds=60),
        trust_mesh_headers=trusted,
    )
    server = grpc.aio.server()  # no interceptor on the server: the registrar wrapped the handlers
    registrar = cast(grpc.aio.Server, interceptor.registrar(server))
    registrar.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(SERVICE, _handlers()),))
    port = next(free_port_source)
    server.add_insecure_port(f"127.0.0.1:{port}")
    await server.start()
    yield f"127.0.0.1:{port}"
    await server.stop(None)


def _from_edge(subject: str = "", *, role: str = "reader", session: str = "s1") -> tuple[tuple[str, str], ...]:
    """Metadata as our sidecar passes a call from the edge: the attested caller, and a user's claims."""
    forwarded = (("x-forwarded-client-cert", f"By={spiffe_id('catalog')};URI={spiffe_id(EDGE)}"),)
    if not subject:
        return forwarded
    claims = {
        "iss": ACCESS_TOKEN_ISSUER,
        "aud": ACCESS_TOKEN_AUDIENCE,
        "sub": subject,
        "role": role,
        "sid": session,
        "exp": int((datetime.now(UTC) + timedelta(minutes=5)).timestamp()),
    }
    encoded = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    return (*forwarded, (CLAIMS_HEADER, encoded))


async def _call(target: str, method: str, request: Any, metadata: Any = ()) -> catalog_pb2.Book:
    async with grpc.aio.insecure_channel(target) as channel:
        serialize, parse = type(request).SerializeToString, catalog_pb2.Book.FromString
        call = channel.unary_unary(method, request_serializer=serialize, response_deserializer=parse)
        return cast(catalog_pb2.Book, await call(request, metadata=metadata, timeout=5))


async def _code(target: str, method: str, request: Any, metadata: Any = ()) -> grpc.StatusCode:
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await _call(target, method, request, metadata)
    return refused.value.code()


async def test_each_call_sees_its_own_caller_and_user_although_the_handler_is_built_once(target: str) -> None:
    get = catalog_pb2.GetBookRequest(name="books/1")
    ada = await _call(target, GET_BOOK, get, _from_edge("users/ada"))
    anonymous = await _call(target, GET_BOOK, get, _from_edge())
    direct = await _call(target, GET_BOOK, get)
    bob = await _call(target, GET_BOOK, get, _from_edge("users/bob"))

    assert (ada.title, anonymous.title, direct.title, bob.title) == ("users/ada", "", "", "users/bob")
    assert ada.subtitle == anonymous.subtitle == bob.subtitle == spiffe_id(EDGE) and direct.subtitle == ""


async def test_claims_count_only_when_a_sidecar_attested_the_caller(target: str) -> None:
    claims_only = tuple(item for item in _from_edge("users/ada") if item[0] == CLAIMS_HEADER)
    found = await _call(target, GET_BOOK, catalog_pb2.GetBookRequest(name="books/1"), claims_only)
    assert found.title == ""  # a raw connection's claims header is ignored


async def test_claims_count_only_from_the_edge_never_from_a_peer(target: str) -> None:
    peer = (("x-forwarded-client-cert", f"By={spiffe_id('catalog')};URI={spiffe_id('loans')}"),)
    with_claims = (*peer, *(item for item in _from_edge("users/ada") if item[0] == CLAIMS_HEADER))
    found = await _call(target, GET_BOOK, catalog_pb2.GetBookRequest(name="books/1"), with_claims)
    assert (found.title, found.subtitle) == ("", spiffe_id("loans"))  # the peer, on its own behalf


async def test_on_an_untrusted_listener_the_forwarded_caller_and_claims_are_nobodys(untrusted_target: str) -> None:
    found = await _call(untrusted_target, GET_BOOK, catalog_pb2.GetBookRequest(name="books/1"), _from_edge("users/ada"))
    assert (found.title, found.subtitle) == ("", "")
    create = catalog_pb2.CreateBookRequest(book=catalog_pb2.Book(title="Dead Souls"))
    librarian = _from_edge("users/lib", role="librarian")
    assert await _code(untrusted_target, CREATE_BOOK, create, librarian) == grpc.StatusCode.UNAUTHENTICATED


async def test_the_access_rule_of_each_method_applies_on_every_call(target: str) -> None:
    create = catalog_pb2.CreateBookRequest(book=catalog_pb2.Book(title="Dead Souls"))
    made = await _call(target, CREATE_BOOK, create, _from_edge("users/lib", role="librarian"))
    assert made.subtitle == "users/lib"
    assert await _code(target, CREATE_BOOK, create, _from_edge("users/ada")) == grpc.StatusCode.PERMISSION_DENIED
    assert await _code(target, CREATE_BOOK, create, _from_edge()) == grpc.StatusCode.UNAUTHENTICATED
    revoked = _from_edge("users/lib", role="librarian", session=REVOKED_SESSION)
    assert await _code(target, CREATE_BOOK, create, revoked) == grpc.StatusCode.UNAUTHENTICATED
    no_rule = catalog_pb2.DeleteBookRequest(name="books/1")
    assert await _code(target, DELETE_BOOK, no_rule, _from_edge("users/a", role="admin")) == (
        grpc.StatusCode.PERMISSION_DENIED
    )


async def test_the_boundary_check_runs_before_the_access_rule(target: str) -> None:
    hostile = catalog_pb2.CreateBookRequest(book=catalog_pb2.Book(title="nul\x00"))
    assert await _code(target, CREATE_BOOK, hostile, _from_edge()) == grpc.StatusCode.INVALID_ARGUMENT


async def test_failures_are_always_logged_and_successes_sampled(target: str, caplog, monkeypatch) -> None:
    caplog.set_level(logging.INFO, logger="athenaeum.rpc")
    # No span records these calls, whatever tracer another test set up: a recorded call is always logged.
    monkeypatch.setattr(interceptors, "start_server_span", lambda *_: (None, None))
    await _call(target, GET_BOOK, catalog_pb2.GetBookRequest(name="books/1"))
    assert await _code(target, GET_BOOK, catalog_pb2.GetBookRequest(name="books/missing")) == grpc.StatusCode.NOT_FOUND

    lines = [(r.method, r.code) for r in caplog.records if r.name == "athenaeum.rpc"]  # type: ignore[attr-defined]
    assert lines == [(GET_BOOK, "NOT_FOUND")]  # the success was not sampled (ratio 0)


def test_the_request_log_keeps_every_failure_every_slow_or_traced_call_and_a_share_of_the_rest() -> None:
    never, always = RequestLog(sample_ratio=0.0, slow_seconds=1.0), RequestLog(sample_ratio=1.0, slow_seconds=1.0)
    ok = grpc.StatusCode.OK

    assert never.wanted(grpc.StatusCode.INTERNAL, 0.001, False)
    assert never.wanted(grpc.StatusCode.NOT_FOUND, 0.001, False)
    assert never.wanted(ok, 1.5, False)
    assert never.wanted(ok, 0.001, True)
    assert not never.wanted(ok, 0.001, False)
    assert always.wanted(ok, 0.001, False)
