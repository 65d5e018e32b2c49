"""A peer call carries the trace of the RPC it is made for, and the user it is made for, whether spans are
recorded or not. When nothing is recorded (no exporter, no OTLP endpoint: the usual case) the mesh channel
adds the trace context itself, beside the user's name, instead of OpenTelemetry's client interceptor, which
made a span nobody records for every peer call (~2.2 % of loans' busy time)."""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import grpc
import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF

from services.support.runtime import tracing
from services.support.runtime.identity import ON_BEHALF_HEADER, Identity, Role, set_current_identity
from services.support.runtime.interceptors import ServerInterceptor
from services.support.runtime.server import mesh_channel
from services.support.runtime.settings import BaseServiceSettings
from services.support.runtime.tracing import current_trace_id

pytestmark = pytest.mark.integration
METHOD = "/athenaeum.test.Peer/Reserve"
LIBRARIAN = "users/3f6d2a4e-0b7c-4c1e-9a55-6a0c2f1d9e01"
NOT_RECORDED = TracerProvider(sampler=ALWAYS_OFF).get_tracer("peer-test")


async def _reserve(request: bytes, context: grpc.aio.ServicerContext) -> bytes:
    """Answers the trace the callee joined, and the headers it was sent."""
    seen = dict(context.invocation_metadata() or ())
    return f"{current_trace_id()} {seen.get('traceparent', '')} {seen.get(ON_BEHALF_HEADER, '')}".encode()


@pytest.fixture
async def peer(free_port_source) -> AsyncIterator[str]:
    server = grpc.aio.server(interceptors=[ServerInterceptor(default_deadline_seconds=5)])
    handler = grpc.unary_unary_rpc_method_handler(_reserve)
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(METHOD.split("/")[1], {"Reserve": handler}),))
    port = next(free_port_source)
    server.add_insecure_port(f"127.0.0.1:{port}")
    await server.start()
    yield f"127.0.0.1:{port}"
    await server.stop(None)


async def _call(address: str, *, in_span: bool) -> tuple[list[str], Any]:
    """A peer call made while serving a librarian's RPC (in a span nothing records, or in none): what the callee
    answered, and the span the caller was in."""

    async def serving() -> tuple[list[str], Any]:
        expires = datetime.now(UTC) + timedelta(minutes=5)
        set_current_identity(Identity(subject=LIBRARIAN, role=Role.LIBRARIAN, session_id="s", expires_at=expires))
        async with mesh_channel(BaseServiceSettings(mesh_url=address)) as channel:
            call = channel.unary_unary(METHOD)
            if not in_span:
                return (await call(b"", timeout=5)).decode().split(" "), None
            with NOT_RECORDED.start_as_current_span("serving") as span:
                return (await call(b"", timeout=5)).decode().split(" "), span

    return await asyncio.get_running_loop().create_task(serving(), context=contextvars.copy_context())


async def test_with_nothing_recorded_a_peer_call_carries_the_trace_without_a_client_span(
    peer: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_client_spans() -> None:
        raise AssertionError("OpenTelemetry's client interceptor built while nothing is recorded")

    monkeypatch.setattr(tracing, "_recording", False)
    monkeypatch.setattr(tracing, "aio_client_interceptors", no_client_spans)
    (joined, traceparent, on_behalf), span = await _call(peer, in_span=True)

    context = span.get_span_context()
    assert joined == format(context.trace_id, "032x")  # the callee's work is in the caller's trace
    assert traceparent.startswith(f"00-{context.trace_id:032x}-{context.span_id:016x}-")  # the caller's own span
    assert on_behalf == LIBRARIAN


async def test_with_nothing_recorded_a_call_outside_any_trace_starts_the_callees_own(
    peer: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tracing, "_recording", False)
    (_, traceparent, on_behalf), _ = await _call(peer, in_span=False)
    assert traceparent == "" and on_behalf == LIBRARIAN  # the callee starts a trace of its own


async def test_with_spans_recorded_peer_calls_keep_opentelemetrys_client_spans(
    peer: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    built: list[int] = []
    real = tracing.aio_client_interceptors

    def counted() -> Any:
        built.append(1)
        return real()

    monkeypatch.setattr(tracing, "_recording", True)
    monkeypatch.setattr(tracing, "aio_client_interceptors", counted)
    (joined, traceparent, on_behalf), span = await _call(peer, in_span=True)

    trace_id = format(span.get_span_context().trace_id, "032x")
    assert built == [1]
    assert joined == trace_id and traceparent.split("-")[1] == trace_id and on_behalf == LIBRARIAN
