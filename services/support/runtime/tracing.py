"""OpenTelemetry tracing for every service: gRPC (server and client), SQLAlchemy, and NATS messages.

A trace starts where work enters the mesh (an RPC or a consumed message) and follows it everywhere:
gRPC metadata between services, the outbox row written with the change, the JetStream message headers
the relay publishes, and the consumer that handles it. So one loan is one trace, edge to notification.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import grpc
from opentelemetry import context, propagate, trace
from opentelemetry.instrumentation.grpc import aio_client_interceptors
from opentelemetry.metrics import get_meter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor, SpanExporter
from opentelemetry.sdk.trace.sampling import (
    ALWAYS_OFF,
    Decision,
    ParentBased,
    Sampler,
    SamplingResult,
    TraceIdRatioBased,
)
from opentelemetry.trace import SpanKind, Status, StatusCode

from services.support.runtime import release

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

    from services.support.runtime.settings import BaseServiceSettings

log = logging.getLogger("athenaeum.tracing")
tracer = trace.get_tracer("athenaeum")

# Probes and reflection would each start a trace every few seconds and bury the real ones.
_UNTRACED_SERVICES = ("grpc.health.v1.Health", "grpc.reflection.")
_recording = True
"""Whether spans are exported (configure_tracing decides; until it runs, as OpenTelemetry's default does)."""
MESSAGING_SYSTEM = "nats"


class EntryPointSampler(Sampler):
    """Starts traces only where work enters (a served RPC, a consumed message), sampled at `ratio`.

    A span without a parent that is not an entry point (the health check's `SELECT 1`, the outbox relay
    polling its table) is background noise and is dropped; spans with a parent follow their parent.
    """

    def __init__(self, ratio: float) -> None:
        self._ratio = TraceIdRatioBased(ratio)

    def should_sample(
        self,
        parent_context: context.Context | None,
        trace_id: int,
        name: str,
        kind: SpanKind | None = None,
        attributes: Any = None,
        links: Sequence[trace.Link] | None = None,
        trace_state: trace.TraceState | None = None,
    ) -> SamplingResult:
        if kind not in (SpanKind.SERVER, SpanKind.CONSUMER):
            return SamplingResult(Decision.DROP)
        return self._ratio.should_sample(parent_context, trace_id, name, kind, attributes, links, trace_state)

    def get_description(self) -> str:
        return f"EntryPointSampler({self._ratio.get_description()})"


def configure_tracing(
    *, service: str, settings: BaseServiceSettings, exporter: SpanExporter | None = None
) -> TracerProvider | None:
    """Install the process-wide tracer provider. Tests pass an in-memory exporter, which is flushed
    synchronously. Without an exporter or an OTLP endpoint nothing is recorded, but every request still
    gets a trace id, carried to peers and into the events it causes (logs and the audit trail show it)."""
    global _recording
    if exporter is None and not settings.otlp_endpoint:
        trace.set_tracer_provider(TracerProvider(sampler=ALWAYS_OFF))
        _recording = False
        return None
    resource = Resource.create(
        {
            "service.name": service,
            "service.namespace": "athenaeum",
            "service.version": settings.service_version or release.version(),
            "deployment.environment.name": settings.environment,
        }
    )
    provider = TracerProvider(resource=resource, sampler=ParentBased(EntryPointSampler(settings.trace_sample_ratio)))
    if exporter is not None:
        provider.add_span_processor(SimpleSpanProcessor(exporter))
    else:
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=settings.otlp_endpoint)))
    trace.set_tracer_provider(provider)
    _recording = True
    log.info("tracing to %s", settings.otlp_endpoint or type(exporter).__name__)
    return provider


def shutdown_tracing(provider: TracerProvider | None) -> None:
    """Flush the spans still buffered (called once the server has drained)."""
    if provider is not None:
        provider.shutdown()


def is_traced(method: str) -> bool:
    """Whether a served method starts or joins a trace (probes and reflection do not)."""
    return not method.lstrip("/").startswith(_UNTRACED_SERVICES)


# Statuses that mean the server failed (OpenTelemetry's gRPC semantic conventions); others are the caller's.
_SERVER_ERRORS = frozenset(
    {
        grpc.StatusCode.UNKNOWN,
        grpc.StatusCode.DEADLINE_EXCEEDED,
        grpc.StatusCode.UNIMPLEMENTED,
        grpc.StatusCode.INTERNAL,
        grpc.StatusCode.UNAVAILABLE,
        grpc.StatusCode.DATA_LOSS,
    }
)


def server_span_attributes(method: str) -> dict[str, str]:
    """The attributes of a method's server spans (built once per method)."""
    service, _, name = method.lstrip("/").rpartition("/")
    return {"rpc.system": "grpc", "rpc.service": service, "rpc.method": name}


def start_server_span(method: str, attributes: dict[str, str], carrier: dict[str, str] | None) -> tuple[Any, object]:
    """The SERVER span of one served RPC, child of the caller's span carried in `carrier` (its W3C trace
    context metadata), made current; returns it with the token `end_server_span` needs.

    The runtime's one interceptor calls this instead of OpenTelemetry's gRPC server interceptor, which
    rebuilt the handler, a context proxy and the attributes on every call (a tenth of a cached GetBook).
    When nothing is recorded the span is a non-recording one: it still carries the trace id to peers,
    events and log lines."""
    parent = propagate.extract(carrier) if carrier else None
    if _recording:
        span = tracer.start_span(method, context=parent, kind=SpanKind.SERVER, attributes=attributes)
    else:
        span = _unrecorded(parent)
    return span, context.attach(trace.set_span_in_context(span, parent))


def _unrecorded(parent: context.Context | None) -> trace.Span:
    """The span the SDK makes when nothing is recorded (sampler ALWAYS_OFF), without its tracer: its parent's
    trace id (a new one at a trace's start), a span id of its own, the parent's trace state, not sampled.
    Through the tracer it cost ~1.5 % of a loaded catalog (a proxy, the sampler's result, the tracer's
    metrics) on every served call, published event and consumed message, for the same three ids."""
    parent_context = trace.get_current_span(parent).get_span_context()
    valid = parent_context.is_valid
    return trace.NonRecordingSpan(
        trace.SpanContext(
            trace_id=parent_context.trace_id if valid else random.getrandbits(128) or 1,
            span_id=random.getrandbits(64) or 1,
            is_remote=False,
            trace_flags=trace.TraceFlags(trace.TraceFlags.DEFAULT),
            trace_state=parent_context.trace_state if valid else None,
        )
    )


@contextmanager
def _current_span(
    name: str, parent: context.Context, kind: SpanKind, attributes: Mapping[str, str]
) -> Iterator[trace.Span]:
    """A span made current for the block: the tracer's when spans are recorded, else `_unrecorded`'s."""
    if _recording:
        with tracer.start_as_current_span(name, context=parent, kind=kind) as span:
            span.set_attributes(attributes)
            yield span
        return
    with trace.use_span(_unrecorded(parent), end_on_exit=True) as span:
        yield span


def end_server_span(span: Any, token: object, code: grpc.StatusCode, error: BaseException | None = None) -> None:
    if span.is_recording():
        span.set_attribute("rpc.grpc.status_code", code.value[0])
        if code in _SERVER_ERRORS:
            if error is not None:
                span.record_exception(error)
            span.set_status(Status(StatusCode.ERROR, code.name))
    span.end()
    context.detach(token)  # type: ignore[arg-type]


def client_interceptors() -> list[grpc.aio.ClientInterceptor]:
    """Client spans for calls to peers; they carry the trace to the next service in gRPC metadata."""
    return list(aio_client_interceptors())


def recording() -> bool:
    """Whether spans are recorded (exported); when not, a peer call carries the trace without a client span."""
    return _recording


def instrument_engine(engine: AsyncEngine) -> None:
    """A span per SQL statement, nested under whatever span is current; nothing when spans are not recorded
    (a statement's span carries no trace id anywhere, and instrumenting cost ~3 % of a loans process)."""
    if not _recording:
        return
    from opentelemetry.instrumentation.sqlalchemy.engine import EngineTracer

    usage = get_meter("athenaeum.sqlalchemy").create_up_down_counter("db.client.connections.usage")
    EngineTracer(trace.get_tracer("athenaeum.sqlalchemy"), engine.sync_engine, usage)


def trace_headers() -> dict[str, str]:
    """W3C trace context of the current span, to store next to an event (outbox row, message headers)."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return carrier


@contextmanager
def publishing(subject: str, *, message_id: str, headers: Mapping[str, str]) -> Iterator[dict[str, str]]:
    """A PRODUCER span, child of the context stored in `headers`; yields the headers to publish with it."""
    parent = propagate.extract(headers)
    attributes = _messaging_attributes(subject, message_id, "publish")
    with _current_span(f"publish {subject}", parent, SpanKind.PRODUCER, attributes):
        outgoing = dict(headers)
        # An event recorded outside any trace starts its own trace at the consumer, not a dropped one.
        if trace.get_current_span(parent).get_span_context().is_valid:
            propagate.inject(outgoing)
        yield outgoing


@contextmanager
def consuming(subject: str, *, message_id: str, headers: Mapping[str, str] | None) -> Iterator[trace.Span]:
    """A CONSUMER span for handling one message, child of the span that published it."""
    parent = propagate.extract(headers or {})
    attributes = _messaging_attributes(subject, message_id, "process")
    with _current_span(f"process {subject}", parent, SpanKind.CONSUMER, attributes) as span:
        yield span


def current_trace_id() -> str:
    """The current trace id as 32 hex digits ("" outside a trace); what logs carry to find the trace."""
    span_context = trace.get_current_span().get_span_context()
    return format(span_context.trace_id, "032x") if span_context.is_valid else ""


def _messaging_attributes(subject: str, message_id: str, operation: str) -> dict[str, str]:
    return {
        "messaging.system": MESSAGING_SYSTEM,
        "messaging.destination.name": subject,
        "messaging.message.id": message_id,
        "messaging.operation.type": operation,
    }
