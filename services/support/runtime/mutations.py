"""How every service runs a call that may change something, in one place (a server interceptor):

- a lost race inside the call (an optimistic update that lost, a deadlock) is repeated inside the service,
  while repeating is safe: nothing committed yet, or the request is idempotent (it resumes);
- a mutation (a request with a `request_id` field) is not abandoned when its client goes away: the work
  finishes, and its answer waits for the client's retry;
- a mutation that carries a request_id acts once and has one answer (AIP-155): the id is claimed before the
  servicer runs; a retry or a twin gets the first call's answer — its response, or its final refusal
  (NOT_FOUND, FAILED_PRECONDITION, ALREADY_EXISTS) —, waits while the first call runs, or hears ABORTED
  REQUEST_IN_PROGRESS (with RetryInfo) when its deadline comes first. Refusals that changed nothing and
  say nothing final (INVALID_ARGUMENT, PERMISSION_DENIED, ABORTED, UNAVAILABLE, …, and a refusal raised with
  `lasting=False`: by state that may change any moment) are not remembered:
  the id stays free for a corrected or later retry. The same id with another request (another method,
  body or caller) is INVALID_ARGUMENT. A first attempt that dies holds its id for its lease only; one that
  fails while the database is away gives its id up as soon as the database answers again.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any, cast

import grpc
from google.protobuf.message import Message

from services.support.runtime import errors
from services.support.runtime.auth import current_identity
from services.support.runtime.callers import current_caller
from services.support.runtime.conflicts import REQUEST_IN_PROGRESS, counting_commits, retry_conflicts
from services.support.runtime.idempotency import Attempt, current_attempt, parse_request_id
from services.support.runtime.identity import Rule
from services.support.runtime.method_facts import MethodFacts, fingerprint, method_facts
from services.support.runtime.method_handlers import Handler
from services.support.runtime.request_ledger import RequestLedger, Seen
from services.support.runtime.status import RememberedRefusal, domain_status
from services.support.runtime.telemetry import REQUEST_REPEATS

log = logging.getLogger("athenaeum.mutations")

REMEMBERED_REFUSALS = (errors.NotFound, errors.FailedPrecondition, errors.AlreadyExists)
"""Final answers that came from executing the request (Stripe keeps its 4xx answers the same way)."""
LEASE_GRACE_SECONDS = 2.0
"""A claim outlives its attempt's time budget by this much, so a commit in flight lands before a takeover."""
Behavior = Callable[[Any, grpc.aio.ServicerContext[Any, Any]], Awaitable[Any]]


def _caller() -> str:
    identity = current_identity()
    return identity.subject if identity is not None else current_caller.get()


@dataclass(frozen=True, slots=True)
class _Call:
    facts: MethodFacts
    behavior: Behavior
    request: Any
    context: Any

    async def run(self, *, resumable: bool) -> Any:
        """The servicer, repeated after a lost race while it has committed nothing (or resumes, being
        idempotent: its use case recalls or continues what an earlier try committed)."""
        with counting_commits() as commits:
            return await retry_conflicts(
                lambda: self.behavior(self.request, self.context), may_retry=lambda: resumable or not commits[0]
            )

    def kept(self, response: Message) -> bytes | None:
        return response.SerializeToString() if self.facts.keeps_answers else None


class MutationInterceptor(grpc.aio.ServerInterceptor):
    """Innermost, after authorization: the caller is known, and only calls that may run claim an id."""

    def __init__(self, ledger: RequestLedger | None, *, policy: Mapping[str, Rule], work_budget_seconds: float) -> None:
        self._ledger = ledger
        self._policy = policy
        self._budget = work_budget_seconds
        self._detached: set[asyncio.Future[Any]] = set()

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[Handler]],
        details: grpc.HandlerCallDetails,
    ) -> Handler:
        handler = await continuation(details)
        return handler if handler is None else self.guard(details.method, handler)

    def guard(self, method: str, handler: Handler) -> Handler:
        """The handler run as this interceptor runs it (the runtime's one interceptor wraps it once)."""
        if handler.unary_unary is None:
            return handler
        rule = self._policy.get(method)
        facts = method_facts(method, public=rule is not None and rule.public)
        behavior = cast(Behavior, handler.unary_unary)

        async def guarded(request: Any, context: Any) -> Any:
            return await self._call(_Call(facts, behavior, request, context))

        replaced: Handler = handler._replace(unary_unary=guarded)  # type: ignore[attr-defined]
        return replaced

    async def _call(self, call: _Call) -> Any:
        if not call.facts.mutation:
            return await call.run(resumable=False)
        request_id = parse_request_id(call.request.request_id)
        if request_id is None or self._ledger is None:
            return await self._detached_from_client(call.run(resumable=False))
        return await self._detached_from_client(self._once(request_id, call))

    async def _once(self, request_id: uuid.UUID, call: _Call) -> Any:
        """Claim the id and run the request, or answer from what the ledger knows. Detached from the client
        from the start: a client that leaves mid-claim must not leave a claim nobody works on."""
        assert self._ledger is not None
        attempt = Attempt(request_id, call.facts.operation, uuid.uuid4())
        prints = fingerprint(call.facts.operation, call.request, _caller())
        claimed = await self._ledger.claim(attempt, prints, lease=self._budget + LEASE_GRACE_SECONDS)
        if isinstance(claimed, Attempt):
            return await self._first(claimed, call)
        return await self._repeat(claimed, attempt, prints, call)

    async def _detached_from_client(self, work: Awaitable[Any]) -> Any:
        """Awaits `work` in a task of its own: if the client goes away, the work still finishes (a saga is
        never cut in half by a client's timeout) and its answer waits in the ledger for the retry."""
        task = asyncio.ensure_future(work)
        try:
            return await asyncio.shield(task)
        except asyncio.CancelledError:
            if not task.done():
                self._keep(task)
            raise

    def _keep(self, task: asyncio.Future[Any]) -> None:
        """Holds a task nobody awaits until it ends (the loop keeps only a weak reference)."""
        self._detached.add(task)
        task.add_done_callback(self._forget)

    def _forget(self, task: asyncio.Future[Any]) -> None:
        self._detached.discard(task)
        if not task.cancelled() and (error := task.exception()) is not None:
            log.info("a call its client left ended with %s", type(error).__name__)

    async def _first(self, attempt: Attempt, call: _Call) -> Any:
        """The attempt that owns the id: run it, then store its answer (or free the id)."""
        assert self._ledger is not None
        current_attempt.set(attempt)  # this task's own context: `remember` commits only for the owner
        try:
            async with asyncio.timeout(self._budget):
                response = await call.run(resumable=True)
        except REMEMBERED_REFUSALS as refusal:
            if refusal.lasting and await self._refuse(attempt, refusal):
                raise
            if not refusal.lasting and await self._give_up(attempt):
                raise  # a refusal by state that may change soon: the id stays free for the retry
            return await self._recall_after_failure(attempt, call)  # the request's change was committed
        except Exception:
            if await self._give_up(attempt):
                raise
            return await self._recall_after_failure(attempt, call)
        finally:
            self._ledger.finished(attempt)
        # Stored while the answer goes out, not before: a round trip less for every caller. Until it is stored
        # the attempt keeps its lease, so a twin or a retry waits for it, and if it is never stored (the process
        # died) a retry recalls the committed change, as after any failure to store it.
        self._keep(asyncio.ensure_future(_quietly(self._ledger.answer(attempt, call.kept(response)), default=None)))
        return response

    def _give_up(self, attempt: Attempt) -> Awaitable[bool]:
        assert self._ledger is not None
        return self._ledger.release(attempt, within=self._budget + LEASE_GRACE_SECONDS)

    def _give_up_later(self, attempt: Attempt) -> None:
        """A ledger write after a failure could not be made (the database is away): the claim is given up
        once it answers, not held for its lease, so the retry the client is told to make runs at once."""
        assert self._ledger is not None
        self._ledger.give_up_later(attempt, within=self._budget + LEASE_GRACE_SECONDS)

    async def _refuse(self, attempt: Attempt, refusal: errors.DomainError) -> bool:
        """Store a final refusal; False when the change was committed (the commit is the answer)."""
        assert self._ledger is not None
        try:
            return await self._ledger.refuse(attempt, domain_status(refusal).SerializeToString())
        except Exception:
            self._give_up_later(attempt)
            raise

    async def _recall_after_failure(self, attempt: Attempt, call: _Call) -> Any:
        try:
            return await self._recall(attempt, call)
        except Exception:
            self._give_up_later(attempt)  # committed, its answer unknown: a retry recalls it
            raise

    async def _recall(self, attempt: Attempt, call: _Call) -> Any:
        """The request's change is committed but its answer is not stored: the use case recalls it."""
        assert self._ledger is not None
        REQUEST_REPEATS.labels(call.facts.operation, "recalled").inc()
        current_attempt.set(replace(attempt, recalling=True))  # the use case's recall must read the ledger
        response = await call.run(resumable=True)
        await _quietly(self._ledger.answer(attempt, call.kept(response)), default=None)
        return response

    async def _repeat(self, seen: Seen, attempt: Attempt, prints: bytes, call: _Call) -> Any:
        """A retry or a twin of a request the ledger knows: its answer, once there is one."""
        assert self._ledger is not None
        operation = call.facts.operation
        if not seen.same_request(operation, prints):
            REQUEST_REPEATS.labels(operation, "mismatch").inc()
            used_for = "another request" if seen.operation == operation else seen.operation
            raise errors.InvalidArgument.field("request_id", f"was already used for {used_for}")
        if not seen.settled:
            waited = await self._ledger.wait(attempt.request_id, budget=_wait_budget(call.context, self._budget))
            if waited is None or (not waited.settled and waited.lease_left <= 0):  # freed or abandoned: ours now
                return await self._once(attempt.request_id, call)
            seen = waited
        if not seen.settled:
            REQUEST_REPEATS.labels(operation, "in_progress").inc()
            raise errors.Conflict(
                "a call with this request_id is still in progress; retry it shortly",
                reason=REQUEST_IN_PROGRESS,
                retry_after=1.0,  # the first call is likely about to answer; its lease is the worst case
            )
        if seen.answer is None:
            return await self._recall(attempt, call)
        REQUEST_REPEATS.labels(operation, "refused" if seen.refused else "answered").inc()
        if seen.refused:
            raise RememberedRefusal.from_bytes(seen.answer)
        assert call.facts.response_type is not None
        return call.facts.response_type.FromString(seen.answer)


def _wait_budget(context: Any, default: float) -> float:
    """How long a twin may wait for the first call: its own deadline, less a moment to answer."""
    remaining = context.time_remaining()
    return max((remaining if remaining is not None else default) - 0.5, 0.0)


async def _quietly(step: Awaitable[Any], *, default: Any) -> Any:
    """Storing an answer after the work: if the database is away, the answer still goes out (the ledger then
    keeps the claim until its lease ends, and a retry recalls the committed change)."""
    try:
        return await step
    except Exception as error:
        log.warning("could not update the request ledger: %s", error)
        return default
