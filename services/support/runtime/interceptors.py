"""Server interceptor: default deadline, domain error mapping, request log line and RED metrics.

Servicers stay thin translators: they raise domain errors and this interceptor turns them into statuses.
"""

from __future__ import annotations

import asyncio
import contextvars
import inspect
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

import grpc
from google.protobuf.message import Message
from google.rpc import code_pb2
from grpc_status import rpc_status

from services.support.runtime import errors
from services.support.runtime.boundary import check_request
from services.support.runtime.identity import spiffe_id
from services.support.runtime.status import RememberedRefusal, domain_status, retry_after_header, unexpected_status
from services.support.runtime.telemetry import RpcMetrics
from services.support.runtime.tracing import current_trace_id

log = logging.getLogger("athenaeum.rpc")

# The mesh identity (SPIFFE URI) of the direct caller, as attested by our sidecar's mTLS.
current_caller: contextvars.ContextVar[str] = contextvars.ContextVar("current_caller", default="")
MESH_IDENTITY_PREFIX = spiffe_id("")
"""Only identities of our own trust domain are callers; any other URI is nobody."""


def caller_from_metadata(metadata: tuple[tuple[str, str | bytes], ...]) -> str:
    """The mesh identity (SPIFFE URI) our sidecar attested in x-forwarded-client-cert; "" if called directly
    or by an identity outside the mesh's trust domain.

    Believe it only from a listener that nothing but the sidecar can reach (see `serve`): the sidecar
    replaces whatever a caller sent (SANITIZE_SET), but a raw connection could send anything."""
    for key, value in metadata:
        if key == "x-forwarded-client-cert" and isinstance(value, str):
            # Envoy SANITIZE_SET: "By=spiffe://...;URI=spiffe://athenaeum/loans" (the last element is ours).
            last = value.split(",")[-1]
            for part in last.split(";"):
                if part.startswith("URI="):
                    uri = part[4:].strip('"')
                    name = uri.removeprefix(MESH_IDENTITY_PREFIX)
                    return uri if name != uri and name and "/" not in name else ""
    return ""


if TYPE_CHECKING:
    Handler = grpc.RpcMethodHandler[Any, Any]
else:
    Handler = grpc.RpcMethodHandler
BEHAVIORS = ("unary_unary", "unary_stream", "stream_unary", "stream_stream")


def replace_behavior(handler: Handler, wrap: Callable[[str, Any], Any]) -> Handler:
    """The handler with its one behavior wrapped: `wrap(kind, behavior)`, kind one of BEHAVIORS.
    A kind ending in "_unary" answers one message; the others stream their answers."""
    for kind in BEHAVIORS:
        behavior = getattr(handler, kind)
        if behavior is not None:
            replaced: Handler = cast(Any, handler)._replace(**{kind: wrap(kind, behavior)})
            return replaced
    return handler


@dataclass(frozen=True, slots=True)
class _Call:
    method: str
    caller: str
    metrics: RpcMetrics


class ServerInterceptor(grpc.aio.ServerInterceptor):
    def __init__(self, *, default_deadline_seconds: float, trust_mesh_headers: bool = True) -> None:
        self._default_deadline = default_deadline_seconds
        self._trust_mesh_headers = trust_mesh_headers

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[Handler]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> Handler:
        handler = await continuation(handler_call_details)
        if handler is None:
            return handler
        method = handler_call_details.method
        metadata = tuple(handler_call_details.invocation_metadata or ())
        caller = caller_from_metadata(metadata) if self._trust_mesh_headers else ""

        def wrap(kind: str, behavior: Any) -> Any:
            call = _Call(method, caller, RpcMetrics.of(method, kind))
            checked = _checking_requests(behavior, streamed=kind.startswith("stream_"))
            if kind.endswith("_unary"):  # a client stream gets no default deadline: it lasts as the client wants
                return self._unary(call, checked, deadline=kind == "unary_unary")
            return self._streaming(call, checked)

        tolerant = cast(Any, handler)._replace(request_deserializer=_tolerant(handler.request_deserializer))
        return replace_behavior(tolerant, wrap)

    def _unary(self, call: _Call, behavior: Any, *, deadline: bool = True) -> Any:
        async def wrapped(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
            current_caller.set(call.caller)
            call.metrics.started()
            started = time.perf_counter()
            timeout = None if not deadline or context.time_remaining() else self._default_deadline
            scope = asyncio.timeout(timeout)
            try:
                async with scope:
                    response = await behavior(request, context)
            except BaseException as error:
                await _abort(context, call, started, error, deadline_expired=scope.expired())
                raise
            _observe(call, started, grpc.StatusCode.OK)
            return response

        return wrapped

    def _streaming(self, call: _Call, behavior: Any) -> Any:
        async def wrapped(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> AsyncIterator[Any]:
            current_caller.set(call.caller)
            call.metrics.started()
            started = time.perf_counter()
            try:
                result = behavior(request, context)
                if inspect.isasyncgen(result):
                    async for item in result:
                        yield item
                else:
                    await result
            except BaseException as error:
                await _abort(context, call, started, error)
                raise
            _observe(call, started, grpc.StatusCode.OK)

        return wrapped


_UNDECODABLE = object()
"""What a request that is not a valid message of its type decodes to; refused before the servicer runs."""


def _tolerant(deserializer: Callable[[bytes], Any] | None) -> Callable[[bytes], Any] | None:
    """Garbage bytes become INVALID_ARGUMENT (gRPC would answer UNKNOWN naming the parser's exception)."""
    if deserializer is None:
        return None

    def decode(data: bytes) -> Any:
        try:
            return deserializer(data)
        except Exception:
            return _UNDECODABLE

    return decode


def _check(request: Any) -> None:
    if request is _UNDECODABLE:
        raise errors.InvalidArgument.field("request", "is not a valid message of this method's request type")
    if isinstance(request, Message):
        check_request(request)


def _checking_requests(behavior: Any, *, streamed: bool) -> Any:
    """The behavior, called only with requests that passed the boundary check (each one, for a stream)."""
    if not streamed:

        def checked_unary(request: Any, context: Any) -> Any:
            _check(request)
            return behavior(request, context)

        return checked_unary

    async def each_checked(requests: AsyncIterator[Any]) -> AsyncIterator[Any]:
        async for request in requests:
            _check(request)
            yield request

    def checked_stream(requests: AsyncIterator[Any], context: Any) -> Any:
        return behavior(each_checked(requests), context)

    return checked_stream


async def _abort(
    context: grpc.aio.ServicerContext[Any, Any],
    call: _Call,
    started: float,
    error: BaseException,
    *,
    deadline_expired: bool = False,
) -> None:
    if isinstance(error, asyncio.CancelledError):
        _observe(call, started, grpc.StatusCode.CANCELLED)
        return
    if isinstance(error, grpc.aio.AbortError):  # the servicer aborted deliberately; the status is set
        _observe(call, started, context.code() or grpc.StatusCode.UNKNOWN)
        return
    if deadline_expired:
        _observe(call, started, grpc.StatusCode.DEADLINE_EXCEEDED)
        await context.abort(grpc.StatusCode.DEADLINE_EXCEEDED, "the request took longer than its deadline")
    if isinstance(error, errors.DomainError):
        proto = domain_status(error)
    elif isinstance(error, RememberedRefusal):
        proto = error.status
    else:
        proto = unexpected_status(error)
        if proto.code == code_pb2.INTERNAL:
            log.error("unhandled error in %s", call.method, exc_info=error, extra={"method": call.method})
    status = rpc_status.to_status(proto)
    _observe(call, started, status.code)
    await context.abort(status.code, status.details, (*status.trailing_metadata, *retry_after_header(proto)))


def _observe(call: _Call, started: float, code: grpc.StatusCode) -> None:
    elapsed = time.perf_counter() - started
    call.metrics.handled(code, elapsed)
    log.info(
        "rpc",
        extra={
            "method": call.method,
            "code": code.name,
            "duration_ms": round(elapsed * 1000, 2),
            "caller": call.caller,
            "trace_id": current_trace_id(),  # the line leads to the request's trace
        },
    )
