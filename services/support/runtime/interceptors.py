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
from typing import TYPE_CHECKING, Any, cast

import grpc
from google.rpc import code_pb2
from grpc_status import rpc_status

from services.support.runtime import errors
from services.support.runtime.status import domain_status, unexpected_status
from services.support.runtime.telemetry import RPC_LATENCY, RPC_REQUESTS
from services.support.runtime.tracing import current_trace_id

log = logging.getLogger("athenaeum.rpc")

# The mesh identity (SPIFFE URI) of the direct caller, as attested by our sidecar's mTLS.
current_caller: contextvars.ContextVar[str] = contextvars.ContextVar("current_caller", default="")


def caller_from_metadata(metadata: tuple[tuple[str, str | bytes], ...]) -> str:
    """The mesh identity (SPIFFE URI) our sidecar attested in x-forwarded-client-cert; "" if called directly."""
    for key, value in metadata:
        if key == "x-forwarded-client-cert" and isinstance(value, str):
            # Envoy SANITIZE_SET: "By=spiffe://...;URI=spiffe://athenaeum/loans" (the last element is ours).
            last = value.split(",")[-1]
            for part in last.split(";"):
                if part.startswith("URI="):
                    return part[4:].strip('"')
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


class ServerInterceptor(grpc.aio.ServerInterceptor):
    def __init__(self, *, default_deadline_seconds: float) -> None:
        self._default_deadline = default_deadline_seconds

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[Handler]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> Handler:
        handler = await continuation(handler_call_details)
        if handler is None:
            return handler
        method = handler_call_details.method
        caller = caller_from_metadata(tuple(handler_call_details.invocation_metadata or ()))

        def wrap(kind: str, behavior: Any) -> Any:
            behavior = _refusing_undecodable(behavior, streaming=kind.startswith("stream_"))
            if kind.endswith("_unary"):  # a client stream gets no default deadline: it lasts as the client wants
                return self._unary(method, caller, behavior, deadline=kind == "unary_unary")
            return self._streaming(method, caller, behavior)

        handler = replace_behavior(handler, wrap)
        deserialize = handler.request_deserializer
        if deserialize is None:
            return handler
        replaced: Handler = cast(Any, handler)._replace(request_deserializer=_tolerant(deserialize))
        return replaced

    def _unary(self, method: str, caller: str, behavior: Any, *, deadline: bool = True) -> Any:
        async def wrapped(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
            current_caller.set(caller)
            started = time.perf_counter()
            timeout = None if not deadline or context.time_remaining() else self._default_deadline
            scope = asyncio.timeout(timeout)
            try:
                async with scope:
                    response = await behavior(request, context)
            except BaseException as error:
                await _abort(context, method, caller, started, error, deadline_expired=scope.expired())
                raise
            _observe(method, caller, started, grpc.StatusCode.OK)
            return response

        return wrapped

    def _streaming(self, method: str, caller: str, behavior: Any) -> Any:
        async def wrapped(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> AsyncIterator[Any]:
            current_caller.set(caller)
            started = time.perf_counter()
            try:
                result = behavior(request, context)
                if inspect.isasyncgen(result):
                    async for item in result:
                        yield item
                else:
                    await result
            except BaseException as error:
                await _abort(context, method, caller, started, error)
                raise
            _observe(method, caller, started, grpc.StatusCode.OK)

        return wrapped


_UNDECODABLE = object()
"""What a request whose bytes are not its message decodes to: refused as INVALID_ARGUMENT by the wrapper
(grpc would answer UNKNOWN, with the parser's exception text)."""


def _tolerant(deserialize: Callable[[bytes], Any]) -> Callable[[bytes], Any]:
    def parse(data: bytes) -> Any:
        try:
            return deserialize(data)
        except Exception:
            return _UNDECODABLE

    return parse


def _refusing_undecodable(behavior: Any, *, streaming: bool) -> Any:
    def check(request: Any) -> Any:
        if request is _UNDECODABLE:
            raise errors.InvalidArgument.field("request", "is not a valid message of this method (corrupt bytes)")
        return request

    async def checked(requests: AsyncIterator[Any]) -> AsyncIterator[Any]:
        async for request in requests:
            yield check(request)

    def wrapped(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
        return behavior(checked(request) if streaming else check(request), context)

    return wrapped


async def _abort(
    context: grpc.aio.ServicerContext[Any, Any],
    method: str,
    caller: str,
    started: float,
    error: BaseException,
    *,
    deadline_expired: bool = False,
) -> None:
    if isinstance(error, asyncio.CancelledError):
        _observe(method, caller, started, grpc.StatusCode.CANCELLED)
        return
    if isinstance(error, grpc.aio.AbortError):  # the servicer aborted deliberately; the status is set
        _observe(method, caller, started, context.code() or grpc.StatusCode.UNKNOWN)
        return
    if deadline_expired:
        _observe(method, caller, started, grpc.StatusCode.DEADLINE_EXCEEDED)
        await context.abort(grpc.StatusCode.DEADLINE_EXCEEDED, "the request took longer than its deadline")
    if isinstance(error, errors.DomainError):
        proto = domain_status(error)
    else:
        proto = unexpected_status(error)
        if proto.code == code_pb2.INTERNAL:
            log.error("unhandled error in %s", method, exc_info=error, extra={"method": method})
    status = rpc_status.to_status(proto)
    _observe(method, caller, started, status.code)
    await context.abort(status.code, status.details, status.trailing_metadata)


def _observe(method: str, caller: str, started: float, code: grpc.StatusCode | Any) -> None:
    elapsed = time.perf_counter() - started
    name = code.name if isinstance(code, grpc.StatusCode) else str(code)
    RPC_REQUESTS.labels(method, name).inc()
    RPC_LATENCY.labels(method).observe(elapsed)
    log.info(
        "rpc",
        extra={
            "method": method,
            "code": name,
            "duration_ms": round(elapsed * 1000, 2),
            "caller": caller,
            "trace_id": current_trace_id(),  # the line leads to the request's trace
        },
    )
