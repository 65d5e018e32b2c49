"""One request that crosses two services is one trace: gRPC server and client spans, the SQL it runs,
the event it commits through the outbox, the JetStream publish and the consumer that handles it.

Two real grpc.aio servers (with the runtime's interceptors) run in this process, on Postgres and NATS
from the session fixtures, so an in-memory exporter sees every span of the trace.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import grpc
import pytest
import sqlalchemy as sa
from nats.aio.msg import Msg
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from prometheus_client import REGISTRY
from span_recording import record_spans

from services.support.runtime.consumers import consume
from services.support.runtime.engine import create_engine
from services.support.runtime.interceptors import ServerInterceptor
from services.support.runtime.messaging import ConsumerSpec, NatsLink, stream_name, subject
from services.support.runtime.outbox import OUTBOX, OutboxMessage, messaging_metadata
from services.support.runtime.outbox_relay import OutboxRelay
from services.support.runtime.settings import BaseServiceSettings
from services.support.runtime.telemetry import JsonFormatter
from services.support.runtime.tracing import client_interceptors

pytestmark = pytest.mark.integration

EXPORTER = InMemorySpanExporter()
FRONT = "/athenaeum.test.Front/Borrow"
BACK = "/athenaeum.test.Back/Reserve"
EVENT_SUBJECT = subject("catalog", "trace_probe")
SETTLE_SECONDS = 15.0
"""How long an effect that follows a delivery (a span ended, a row marked, a message acked) is waited for."""


def raw(path: str):
    """A unary method on raw bytes (no proto needed to prove propagation)."""
    return {"request_serializer": bytes, "response_deserializer": bytes} | {"method": path}


class Handlers(grpc.GenericRpcHandler):
    def __init__(self, methods: dict) -> None:
        self._methods = methods

    def service(self, details: grpc.HandlerCallDetails):
        behaviour = self._methods.get(details.method)
        return grpc.unary_unary_rpc_method_handler(behaviour) if behaviour else None


async def start_server(methods: dict) -> tuple[grpc.aio.Server, str]:
    server = grpc.aio.server(interceptors=[ServerInterceptor(default_deadline_seconds=10)])
    server.add_generic_rpc_handlers([Handlers(methods)])
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    return server, f"127.0.0.1:{port}"


@pytest.fixture(scope="module")
def settings(postgres) -> BaseServiceSettings:
    url = postgres.fresh_database("traces")
    settings = BaseServiceSettings(database_url=url, db_pool_size=2)
    record_spans(EXPORTER, service="trace-test", settings=settings)
    return settings


@pytest.fixture
async def two_services(settings: BaseServiceSettings, nats: str) -> AsyncIterator[tuple[str, asyncio.Queue[str], str]]:
    """front --gRPC--> back --outbox/JetStream--> a consumer; yields front's address, what was consumed and
    the consumer's durable name."""
    engine = create_engine(settings)
    async with engine.begin() as connection:
        await connection.run_sync(messaging_metadata.create_all)
    link = NatsLink(nats, name="trace-test")
    relay = OutboxRelay(engine, link, poll_seconds=0.05)
    consumed: asyncio.Queue[str] = asyncio.Queue()

    async def reserve(request: bytes, context: grpc.aio.ServicerContext) -> bytes:
        event = OutboxMessage(uuid.uuid4(), EVENT_SUBJECT, "TraceProbe", request, datetime.now(UTC))
        async with engine.begin() as connection:
            await connection.execute(sa.text("SELECT 1"))
            await connection.execute(OUTBOX.insert(), [event.row()])
        relay.wake()
        return b"reserved"

    async def on_event(message: Msg) -> None:
        async with engine.connect() as connection:
            await connection.execute(sa.text("SELECT 2"))
        await consumed.put(message.data.decode())

    back, back_address = await start_server({BACK: reserve})
    peer = grpc.aio.insecure_channel(back_address, interceptors=client_interceptors())
    call_back = peer.unary_unary(**raw(BACK))

    async def borrow(request: bytes, context: grpc.aio.ServicerContext) -> bytes:
        return await call_back(request, timeout=5)

    front, front_address = await start_server({FRONT: borrow})
    durable = f"trace_test_{uuid.uuid4().hex[:8]}"
    spec = ConsumerSpec(stream=stream_name("catalog"), durable=durable, filter_subject=EVENT_SUBJECT)
    tasks = [asyncio.create_task(job) for job in (link.run(), relay.run(), consume(link, spec, on_event))]
    try:
        await asyncio.wait_for(link.wait_connected(), 10)
        yield front_address, consumed, durable
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await front.stop(None)
        await back.stop(None)
        await peer.close()
        await link.close()
        await engine.dispose()


def trace_of(spans: tuple[ReadableSpan, ...], root: ReadableSpan) -> dict[int, ReadableSpan]:
    return {span.context.span_id: span for span in spans if span.context.trace_id == root.context.trace_id}


def parent_of(span: ReadableSpan, by_id: dict[int, ReadableSpan]) -> ReadableSpan:
    assert span.parent is not None, f"{span.name} has no parent"
    return by_id[span.parent.span_id]


async def test_a_request_through_two_services_and_an_event_is_one_span_tree(two_services, caplog) -> None:
    front_address, consumed, durable = two_services
    published_before = REGISTRY.get_sample_value("athenaeum_outbox_published_total") or 0
    EXPORTER.clear()
    body = f"book-{uuid.uuid4()}"
    caplog.set_level(logging.INFO, logger="athenaeum.rpc")

    async with grpc.aio.insecure_channel(front_address) as channel:
        assert await channel.unary_unary(**raw(FRONT))(body.encode(), timeout=10) == b"reserved"
    assert await asyncio.wait_for(consumed.get(), 10) == body
    await asyncio.sleep(0)  # let the consumer's span end after the handler returned

    spans = EXPORTER.get_finished_spans()
    (front_server,) = [s for s in spans if s.kind == SpanKind.SERVER and s.attributes.get("rpc.method") == "Borrow"]
    by_id = trace_of(spans, front_server)
    assert front_server.parent is None  # the trace starts where the request enters

    (client,) = [s for s in by_id.values() if s.kind == SpanKind.CLIENT and s.attributes.get("rpc.method") == "Reserve"]
    (back_server,) = [
        s for s in by_id.values() if s.kind == SpanKind.SERVER and s.attributes.get("rpc.method") == "Reserve"
    ]
    (publish,) = [s for s in by_id.values() if s.kind == SpanKind.PRODUCER]
    consumer = await _consumer_span(front_server)
    sql = [s for s in by_id.values() if s.attributes.get("db.system") == "postgresql" or "SELECT" in s.name]

    assert parent_of(client, by_id) is front_server
    assert parent_of(back_server, by_id) is client
    assert parent_of(publish, by_id) is back_server  # via the outbox row, written in back's transaction
    assert parent_of(consumer, by_id | {publish.context.span_id: publish}) is publish  # via JetStream headers
    assert publish.attributes["messaging.destination.name"] == EVENT_SUBJECT
    assert {parent_of(s, by_id | {consumer.context.span_id: consumer}).name for s in sql} >= {
        back_server.name,
        consumer.name,
    }
    front_line = _request_log_line(caplog.records, FRONT)
    assert front_line["trace_id"] == format(front_server.context.trace_id, "032x")
    assert front_line["code"] == "OK" and front_line["duration_ms"] > 0
    # The same journey in the metrics: relayed once, handled once, nothing left waiting for the consumer.
    # The relay counts its row once marked and the consumer once acked: both may come just after the delivery.
    expected = {
        ("athenaeum_outbox_published_total", ()): published_before + 1,
        ("athenaeum_consumer_messages_total", (("consumer", durable), ("outcome", "acked"))): 1,
        ("athenaeum_consumer_pending_messages", (("consumer", durable),)): 0,
    }
    assert await _settled(expected) == expected


async def _consumer_span(root: ReadableSpan) -> ReadableSpan:
    # The consumer's span ends just after its handler: wait for it without sleeping a fixed time (on a busy
    # machine the handler's return may take more than the two seconds this waited).
    deadline = time.monotonic() + SETTLE_SECONDS
    while time.monotonic() < deadline:
        found = [
            s
            for s in EXPORTER.get_finished_spans()
            if s.kind == SpanKind.CONSUMER and s.context.trace_id == root.context.trace_id
        ]
        if found:
            return found[0]
        await asyncio.sleep(0.01)
    raise AssertionError("the consumer's span never ended")


async def _settled(expected: dict[tuple[str, tuple[tuple[str, str], ...]], float]) -> dict:
    """The samples named by `expected`, once they equal it or after SETTLE_SECONDS (no fixed sleep)."""
    deadline = time.monotonic() + SETTLE_SECONDS
    while (seen := {key: REGISTRY.get_sample_value(key[0], dict(key[1])) for key in expected}) != expected:
        if time.monotonic() > deadline:
            break
        await asyncio.sleep(0.01)
    return seen


def _request_log_line(records: list[logging.LogRecord], method: str) -> dict:
    formatter = JsonFormatter()
    lines = [json.loads(formatter.format(r)) for r in records if getattr(r, "method", None) == method]
    assert len(lines) == 1
    return lines[0]


async def test_background_queries_start_no_trace(settings: BaseServiceSettings) -> None:
    EXPORTER.clear()
    engine = create_engine(settings)
    try:
        async with engine.connect() as connection:  # like the health check's SELECT 1 and the relay's polling
            await connection.execute(sa.text("SELECT 1"))
    finally:
        await engine.dispose()
    assert EXPORTER.get_finished_spans() == ()
