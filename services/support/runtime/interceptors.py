"""The one server interceptor of every service, in this order: admission (calls from the edge beyond the
process's limit are shed at once), the request's trace span, the boundary check, the caller's identity and
access rule, the default deadline, the request ledger and lost races retried (mutations), domain errors to
statuses, RED metrics and the log line.

Servicers stay thin translators: they raise domain errors and this interceptor turns them into statuses.
It is one interceptor, not a chain, and what it needs per method (the wrapped handler, the access rule,
the metric series, the span attributes) is built on the method's first call and kept: on a cached GetBook
the chain of three (OpenTelemetry's, ours, the access check) and the per-call rebuilding cost as much CPU as
the rest of the call. Servicers reach the server through its Registrar (registrar.py), which wraps each
handler once, as it is registered.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING, Any, cast

import grpc
from google.rpc import code_pb2
from grpc_status import rpc_status

from services.support.runtime import errors
from services.support.runtime.callers import current_caller, read_metadata
from services.support.runtime.identity import EDGE_CALLER, Rule, set_on_behalf
from services.support.runtime.method_handlers import BEHAVIORS, Handler
from services.support.runtime.registrar import Registrar
from services.support.runtime.request_decoding import check_decoded, each_checked, tolerant
from services.support.runtime.status import RememberedRefusal, domain_status, retry_after_header, unexpected_status
from services.support.runtime.telemetry import RpcMetrics
from services.support.runtime.tracing import (
    current_trace_id,
    end_server_span,
    is_traced,
    server_span_attributes,
    start_server_span,
)

log = logging.getLogger("athenaeum.rpc")

if TYPE_CHECKING:
    from services.support.runtime.admission import Admission
    from services.support.runtime.auth import AccessPolicy  # auth imports the outbox, which imports us
    from services.support.runtime.mutations import MutationInterceptor


class RequestLog:
    """Which calls get a log line: every failed or slow one, every traced one (its trace is recorded, the
    line leads to it), and `sample_ratio` of the rest. The edge's access log already has every request;
    a line per call here cost ~6 % of a cached GetBook's CPU (a JSON encoding and a write)."""

    def __init__(self, *, sample_ratio: float = 1.0, slow_seconds: float = 0.5) -> None:
        self.sample_ratio = sample_ratio
        self.slow_seconds = slow_seconds

    def wanted(self, code: grpc.StatusCode, elapsed: float, recorded: bool) -> bool:
        if code is not grpc.StatusCode.OK or elapsed >= self.slow_seconds or recorded:
            return True
        return self.sample_ratio >= 1.0 or random.random() < self.sample_ratio


class _Method:
    """What the interceptor keeps per served method."""

    __slots__ = ("admission", "attributes", "boundary", "deadline", "metrics", "name", "rule", "traced")

    def __init__(self, name: str, kind: str, rule: Rule | None, admission: Admission | None, boundary: bool) -> None:
        self.name = name
        self.boundary = boundary  # False: the servicer checks every field (server.served's checked_by_servicer)
        # A server stream answers as it goes: nothing to hold back. Admission off (limit 0): nothing to do.
        self.admission = admission if admission is not None and admission.most > 0 and kind.endswith("_unary") else None
        self.metrics = RpcMetrics.of(name, kind)
        self.rule = rule
        self.traced = is_traced(name)
        self.attributes = server_span_attributes(name)
        self.deadline = kind == "unary_unary"  # a client stream gets no default deadline: it lasts as it wants


class _Call:
    """One call in progress: its method, caller, span and start time."""

    __slots__ = ("address", "caller", "claims", "method", "request_id", "span", "started", "token")

    def __init__(
        self,
        method: _Method,
        caller: str,
        claims: str,
        address: str,
        request_id: str,
        on_behalf: str,
        carrier: dict[str, str] | None,
    ) -> None:
        self.method = method
        self.caller, self.claims, self.address, self.request_id = caller, claims, address, request_id
        self.span = self.token = None
        if method.traced:
            self.span, self.token = start_server_span(method.name, method.attributes, carrier)
        current_caller.set(self.caller)
        set_on_behalf(on_behalf, caller=caller)
        method.metrics.started()
        self.started = time.perf_counter()


class ServerInterceptor(grpc.aio.ServerInterceptor):
    """`admission`, `access`, `mutations` None: no admission limit, access check or request ledger (servers
    of tests that exercise the other concerns). `trust_mesh_headers`: believe the caller identity, user claims
    and client address our sidecar forwards; only on a listener nothing but the sidecar can reach (see
    `serve`): on a TCP port anyone local could forge them, and every call is then nobody's."""

    def __init__(
        self,
        *,
        default_deadline_seconds: float,
        admission: Admission | None = None,
        access: AccessPolicy | None = None,
        mutations: MutationInterceptor | None = None,
        request_log: RequestLog | None = None,
        trust_mesh_headers: bool = True,
        checked_by_servicer: frozenset[str] = frozenset(),
    ) -> None:
        self._default_deadline = default_deadline_seconds
        self._trust_mesh_headers = trust_mesh_headers
        self._admission = admission
        self._access = access
        self._mutations = mutations
        self._log = request_log or RequestLog()
        self._checked_by_servicer = checked_by_servicer
        self._handlers: dict[str, Handler] = {}

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[Handler]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> Handler:
        wrapped = self._handlers.get(handler_call_details.method)
        if wrapped is not None:
            return wrapped
        return cast(Handler, self.wrap(handler_call_details.method, await continuation(handler_call_details)))

    def wrap(self, method: str, handler: Handler | None) -> Handler | None:
        """`method`'s handler run inside this interceptor, built on first use and kept. Unknown methods
        (no handler) are not remembered: a caller may name any number of them."""
        if handler is None:
            return None
        wrapped = self._handlers.get(method)
        if wrapped is None:
            wrapped = self._handlers[method] = self._wrap(method, handler)
        return wrapped

    def registrar(self, server: grpc.aio.Server) -> Registrar:
        """What to add servicers to instead of `server`: see Registrar."""
        return Registrar(server, self)

    def _wrap(self, name: str, handler: Handler) -> Handler:
        if self._mutations is not None:  # innermost: runs after the access check let the call in
            handler = self._mutations.guard(name, handler)
        decoding = cast(Any, handler)._replace(request_deserializer=tolerant(handler.request_deserializer))
        rule = self._access.rule(name) if self._access is not None else None
        for kind in BEHAVIORS:
            behavior = getattr(handler, kind)
            if behavior is not None:
                method = _Method(name, kind, rule, self._admission, name not in self._checked_by_servicer)
                streamed = kind.startswith("stream_")
                wrap = self._unary if kind.endswith("_unary") else self._streaming
                replaced: Handler = decoding._replace(**{kind: wrap(method, behavior, streamed)})
                return replaced
        return handler

    def _admit(self, call: _Call, request: Any, streamed: bool) -> Any:
        """The request once it passed the boundary check (each message of a stream, as it is read) and the
        access rule (before a stream's first message is read); raises otherwise."""
        boundary = call.method.boundary
        if not streamed:
            check_decoded(request, boundary)
        if self._access is not None:
            self._access.admit(
                call.method.name,
                call.method.rule,
                caller=call.caller,
                raw_claims=call.claims,
                client_address=call.address,
                request=request,
            )
        return each_checked(request, boundary) if streamed else request

    def _unary(self, method: _Method, behavior: Any, streamed: bool) -> Any:
        async def admitted(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
            seen = read_metadata(context.invocation_metadata(), trusted=self._trust_mesh_headers)
            if method.admission is None or seen[0] != EDGE_CALLER:  # peers and probes are never refused
                return await run(request, context, _Call(method, *seen))
            async with await method.admission.enter_or_shed(method.name, context):
                return await run(request, context, _Call(method, *seen))

        async def run(request: Any, context: grpc.aio.ServicerContext[Any, Any], call: _Call) -> Any:
            timeout = None if not method.deadline or context.time_remaining() else self._default_deadline
            scope = asyncio.timeout(timeout)
            try:
                async with scope:
                    response = await behavior(self._admit(call, request, streamed), context)
            except BaseException as error:
                await self._abort(context, call, error, deadline_expired=scope.expired())
                raise
            self._observe(call, grpc.StatusCode.OK)
            return response

        return admitted

    def _streaming(self, method: _Method, behavior: Any, streamed: bool) -> Any:
        async def wrapped(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> AsyncIterator[Any]:
            call = _Call(method, *read_metadata(context.invocation_metadata(), trusted=self._trust_mesh_headers))
            try:
                result = behavior(self._admit(call, request, streamed), context)
                if inspect.isasyncgen(result):
                    async for item in result:
                        yield item
                else:
                    await result  # the servicer wrote its messages with context.write
            except BaseException as error:
                await self._abort(context, call, error)
                raise
            self._observe(call, grpc.StatusCode.OK)

        return wrapped

    async def _abort(
        self,
        context: grpc.aio.ServicerContext[Any, Any],
        call: _Call,
        error: BaseException,
        *,
        deadline_expired: bool = False,
    ) -> None:
        if isinstance(error, asyncio.CancelledError):
            self._observe(call, grpc.StatusCode.CANCELLED)
            return
        if isinstance(error, grpc.aio.AbortError):  # the servicer aborted deliberately; the status is set
            self._observe(call, context.code() or grpc.StatusCode.UNKNOWN)
            return
        if deadline_expired:
            self._observe(call, grpc.StatusCode.DEADLINE_EXCEEDED)
            await context.abort(grpc.StatusCode.DEADLINE_EXCEEDED, "the request took longer than its deadline")
        if isinstance(error, errors.DomainError):
            proto = domain_status(error)
        elif isinstance(error, RememberedRefusal):
            proto = error.status
        else:
            proto = unexpected_status(error)
            if proto.code == code_pb2.INTERNAL:
                log.error("unhandled error in %s", call.method.name, exc_info=error,
                          extra={"method": call.method.name})  # fmt: skip
        status = rpc_status.to_status(proto)
        self._observe(call, status.code, error)
        await context.abort(status.code, status.details, (*status.trailing_metadata, *retry_after_header(proto)))

    def _observe(self, call: _Call, code: grpc.StatusCode, error: BaseException | None = None) -> None:
        elapsed = time.perf_counter() - call.started
        call.method.metrics.handled(code, elapsed)
        span = call.span
        recorded = span is not None and span.is_recording()
        if self._log.wanted(code, elapsed, recorded) and log.isEnabledFor(logging.INFO):
            log.info(
                "rpc",
                extra={
                    "method": call.method.name,
                    "code": code.name,
                    "duration_ms": round(elapsed * 1000, 2),
                    "caller": call.caller,
                    "request_id": call.request_id,  # the id the client sent or got back from the edge
                    "trace_id": current_trace_id(),  # the line leads to the request's trace
                },
            )
        if span is not None:
            end_server_span(span, call.token, code, error)
            call.span = None  # a deadline's abort observes once; the re-raise must not end the span twice
