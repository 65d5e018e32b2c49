"""Admission: a service takes on only the calls from outside the mesh that it can serve soon, and sheds the
rest at once (RESOURCE_EXHAUSTED with RetryInfo; 429 with Retry-After at the edge) instead of letting every
call queue for seconds behind the others.

Calls from the edge run at most `limit` at a time in the process; a call that finds them all busy waits up to
`wait` seconds for one to end, then is refused. The limit adapts to what the machine gives (additive
increase, multiplicative decrease, as TCP and Netflix's concurrency-limits do): while the calls let in take
longer than `target` (their 90th percentile over the last few), it shrinks by a quarter; while they are
quick and all slots are busy, it grows by one, up to `most`. So admitted calls stay near the target however
loaded the host is, and the rest hear at once when to come back.

A refused call is told when to come back (RetryInfo, Retry-After): as long as the calls waiting now take to
be served (from one to fifteen seconds), so that a client retries about once per turn instead of hammering a
full service.

Calls from peers are never refused here: they serve a call this mesh already admitted (a saga half done must
be finished, not shed), and probes and health checks are infrastructure. Refusing is cheap: it happens before
anything else of the runtime (no span, no log line, no database), and nothing was changed.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import statistics
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import grpc
from grpc_status import rpc_status

from services.support.runtime.callers import caller_from_metadata
from services.support.runtime.errors import Throttled
from services.support.runtime.identity import EDGE_CALLER
from services.support.runtime.method_handlers import Handler, replace_behavior
from services.support.runtime.settings import BaseServiceSettings
from services.support.runtime.status import domain_status, retry_after_header
from services.support.runtime.telemetry import ADMISSION_LIMIT, ADMISSION_SHED

WINDOW = 20
"""Calls let in between two adjustments of the limit."""
RETRY_AFTER_RANGE = (1.0, 15.0)
LEAST_SHARE = 8
"""The limit never falls below `most / LEAST_SHARE` (at least 1): on a host starved by other work every call is
slow whatever the limit, and a limit of one would only halve what the service serves (as minLimit does in
Netflix's concurrency-limits)."""


class Admission:
    """The process's slots for calls from outside the mesh, and the limit on them."""

    def __init__(self, *, most: int, wait: float, target: float) -> None:
        self.most = most
        self.least = max(1.0, most / LEAST_SHARE)
        self.limit = float(most)
        self._wait = wait
        self._target = target
        self._in_flight = 0
        self._waiting: collections.deque[asyncio.Future[None]] = collections.deque()
        self._durations: list[float] = []
        self._saturated = False
        self.retry_after = RETRY_AFTER_RANGE[0]
        self._admitted = self._shed = 0
        ADMISSION_LIMIT.set(most)

    async def enter(self, method: str) -> contextlib.AbstractAsyncContextManager[None]:
        """A slot for the call (held until the returned context ends); Throttled when none frees in time."""
        await self._acquire(method)
        return self._held()

    async def enter_or_shed(
        self, method: str, context: grpc.aio.ServicerContext[Any, Any]
    ) -> contextlib.AbstractAsyncContextManager[None]:
        """`enter`, or the call ends here: RESOURCE_EXHAUSTED with RetryInfo and retry-after, made at once
        (no span, no log line: shedding must cost next to nothing)."""
        try:
            return await self.enter(method)
        except Throttled as shed:
            proto = domain_status(shed)
            status = rpc_status.to_status(proto)
            await context.abort(status.code, status.details, (*status.trailing_metadata, *retry_after_header(proto)))
            raise  # abort raised already

    @contextlib.asynccontextmanager
    async def _held(self) -> AsyncIterator[None]:
        started = time.monotonic()
        try:
            yield
        finally:
            self._release(time.monotonic() - started)

    async def _acquire(self, method: str) -> None:
        if self._in_flight < int(self.limit) and not self._waiting:
            self._in_flight += 1
            self._saturated |= self._in_flight >= int(self.limit)
            return
        turn = asyncio.get_running_loop().create_future()
        self._waiting.append(turn)
        self._saturated = True
        try:
            async with asyncio.timeout(self._wait):
                await turn
        except BaseException as stopped:
            if turn.done() and not turn.cancelled():  # a slot was handed on just as the wait ended
                if isinstance(stopped, TimeoutError):
                    return  # take it
                self._release(0.0)  # the caller left: give it to the next
                raise
            turn.cancel()
            with contextlib.suppress(ValueError):
                self._waiting.remove(turn)
            if not isinstance(stopped, TimeoutError):
                raise
            ADMISSION_SHED.labels(method.rpartition("/")[2]).inc()
            self._shed += 1
            raise Throttled(
                "the service is at capacity; retry after a moment", reason="OVERLOADED", retry_after=self.retry_after
            ) from None

    def _release(self, seconds: float) -> None:
        self._in_flight -= 1
        self._release_after(seconds)
        self._hand_on()

    def _release_after(self, seconds: float) -> None:
        """Account for a call that took `seconds` (adjusting the limit after every WINDOW of them)."""
        self._admitted += 1
        self._durations.append(seconds)
        if len(self._durations) >= WINDOW:
            self._adjust()

    def _hand_on(self) -> None:
        """Free slots go to the calls waiting longest (a slot handed on stays counted as taken)."""
        while self._waiting and self._in_flight < int(self.limit):
            turn = self._waiting.popleft()
            if not turn.done():
                self._in_flight += 1
                turn.set_result(None)

    def _adjust(self) -> None:
        slow = statistics.quantiles(self._durations, n=10)[8] > self._target
        if slow:
            self.limit = max(self.least, self.limit * 0.75)
        elif self._saturated:
            self.limit = min(float(self.most), self.limit + 1)
        self._durations.clear()
        self._saturated = False
        ADMISSION_LIMIT.set(int(self.limit))
        self._tell_when_to_come_back()

    def _tell_when_to_come_back(self) -> None:
        """Over the last window, `shed` refusals of clients told to wait `retry_after` mean about
        shed * retry_after / elapsed clients waiting; served at admitted / elapsed per second, their turn
        comes in shed * retry_after / admitted seconds (elapsed cancels out)."""
        least, most = RETRY_AFTER_RANGE
        waiting_time = self._shed * self.retry_after / max(self._admitted, 1)
        self.retry_after = min(max(waiting_time, least), most)
        self._admitted = self._shed = 0


def admission_of(settings: BaseServiceSettings) -> Admission:
    return Admission(
        most=settings.admission_limit, wait=settings.admission_wait_seconds, target=settings.admission_target_seconds
    )


class AdmissionInterceptor(grpc.aio.ServerInterceptor):
    """The outermost interceptor: a refusal costs as little as it can (it makes its status itself)."""

    def __init__(self, admission: Admission) -> None:
        self._admission = admission

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[Handler]],
        details: grpc.HandlerCallDetails,
    ) -> Handler:
        handler = await continuation(details)
        if handler is None or self._admission.most <= 0:
            return handler
        if caller_from_metadata(tuple(details.invocation_metadata or ())) != EDGE_CALLER:
            return handler
        method = details.method
        admission = self._admission

        def wrap(kind: str, behavior: Any) -> Any:
            if not kind.endswith("_unary"):  # a server stream answers as it goes: nothing to hold back
                return behavior

            async def admitted(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
                async with await admission.enter_or_shed(method, context):
                    return await behavior(request, context)

            return admitted

        return replace_behavior(handler, wrap)
