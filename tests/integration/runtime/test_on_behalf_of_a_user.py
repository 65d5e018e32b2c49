"""A peer's call made while serving a user names that user (finding A10): the callee's outbox records them as
the actor, as the caller's own does. It counts only from a peer, and grants nothing."""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import grpc
import pytest

from athenaeum.catalog.v1 import catalog_pb2
from services.support.runtime.identity import (
    EDGE,
    ON_BEHALF_HEADER,
    Identity,
    Role,
    current_identity,
    set_current_identity,
    set_on_behalf,
    spiffe_id,
)
from services.support.runtime.interceptors import ServerInterceptor
from services.support.runtime.messaging import ACTOR_HEADER
from services.support.runtime.on_behalf import OnBehalfInterceptor
from services.support.runtime.outbox import actor_header

pytestmark = pytest.mark.integration
SERVICE = "athenaeum.catalog.v1.CatalogService"
GET_BOOK = f"/{SERVICE}/GetBook"
LIBRARIAN = "users/3f6d2a4e-0b7c-4c1e-9a55-6a0c2f1d9e01"


async def _get_book(request: catalog_pb2.GetBookRequest, context: Any) -> catalog_pb2.Book:
    """Answers the actor its outbox would record, and whether the call was admitted as a user's."""
    return catalog_pb2.Book(title=actor_header().get(ACTOR_HEADER, ""), subtitle=str(current_identity() is not None))


@pytest.fixture
async def catalog(free_port_source) -> AsyncIterator[str]:
    interceptor = ServerInterceptor(default_deadline_seconds=5, trust_mesh_headers=True)
    server = grpc.aio.server()
    registrar = cast(grpc.aio.Server, interceptor.registrar(server))
    handler = grpc.unary_unary_rpc_method_handler(
        _get_book,
        request_deserializer=catalog_pb2.GetBookRequest.FromString,
        response_serializer=catalog_pb2.Book.SerializeToString,
    )
    registrar.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(SERVICE, {"GetBook": handler}),))
    port = next(free_port_source)
    server.add_insecure_port(f"127.0.0.1:{port}")
    await server.start()
    yield f"127.0.0.1:{port}"
    await server.stop(None)


def _attested(who: str) -> tuple[str, str]:
    """The caller as our sidecar attests it (the test stands in for the sidecars)."""
    return ("x-forwarded-client-cert", f"By={spiffe_id('catalog')};URI={spiffe_id(who)}")


async def _peer_call(target: str, *, caller: str, metadata: tuple[tuple[str, str], ...] = ()) -> catalog_pb2.Book:
    interceptors = [cast(grpc.aio.ClientInterceptor, OnBehalfInterceptor())]
    async with grpc.aio.insecure_channel(target, interceptors=interceptors) as channel:
        call = channel.unary_unary(
            GET_BOOK,
            request_serializer=catalog_pb2.GetBookRequest.SerializeToString,
            response_deserializer=catalog_pb2.Book.FromString,
        )
        request = catalog_pb2.GetBookRequest(name="books/1")
        return cast(catalog_pb2.Book, await call(request, metadata=(_attested(caller), *metadata), timeout=5))


def _serving(user: str | None) -> contextvars.Context:
    """The context of an RPC being served for `user` (None: a background job's)."""
    context = contextvars.copy_context()
    if user is not None:
        expires = datetime.now(UTC) + timedelta(minutes=5)
        context.run(
            set_current_identity, Identity(subject=user, role=Role.LIBRARIAN, session_id="s", expires_at=expires)
        )
    else:
        context.run(set_current_identity, None)
        context.run(set_on_behalf, "", caller="")
    return context


async def _in(context: contextvars.Context, coroutine: Any) -> Any:
    return await asyncio.get_running_loop().create_task(coroutine, context=context)


async def test_a_peers_call_for_a_librarian_is_recorded_as_theirs_and_grants_nothing(catalog: str) -> None:
    answer = await _in(_serving(LIBRARIAN), _peer_call(catalog, caller="loans"))
    assert (answer.title, answer.subtitle) == (LIBRARIAN, "False")


async def test_a_background_jobs_call_names_nobody(catalog: str) -> None:
    answer = await _in(_serving(None), _peer_call(catalog, caller="loans"))
    assert answer.title == ""


async def test_the_header_from_the_edge_or_not_a_users_name_counts_for_nothing(catalog: str) -> None:
    forged = ((ON_BEHALF_HEADER, LIBRARIAN),)
    from_edge = await _in(_serving(None), _peer_call(catalog, caller=EDGE, metadata=forged))
    assert from_edge.title == "anonymous"  # a client's call without a user, whatever it says
    odd = await _in(_serving(None), _peer_call(catalog, caller="loans", metadata=((ON_BEHALF_HEADER, "services/x"),)))
    assert odd.title == ""
