"""The runtime's side of idempotency: claiming a request_id, answering its twins and retries, expiring old ids.

Each statement runs on its own (autocommit: one round trip), outside the servicer's transactions, through
the driver (see DriverStatement): SQLAlchemy's work around each cost more CPU than the round trip. A mutation
needs a claim before it runs and its answer stored after; the answers wait a moment for the next claim, which
stores them in its own statement (under load one always comes first: a statement fewer per mutation), and are
stored by themselves when none comes. The rows and what their states mean are described in
`runtime.idempotency`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from services.support.runtime import lending
from services.support.runtime.conflicts import is_database_conflict
from services.support.runtime.driver import DriverStatement
from services.support.runtime.idempotency import COMMITTED, Attempt
from services.support.runtime.request_ledger_statements import (
    CLAIM,
    EXPIRE,
    REFUSE,
    SEEN,
    STORE_ANSWERS,
    Answer,
    answer_rows,
    settle_answers,
)
from services.support.runtime.request_leftovers import RELEASE, Leftovers
from services.support.runtime.upkeep import EVERY_SECONDS, delete_forever

log = logging.getLogger("athenaeum.requests")

ANSWER_LINGER_SECONDS = 0.02
"""How long an answer waits for a claim to store it before it is stored by itself: far inside any lease, and
about what a retry or a twin waits between two looks at the ledger."""


@dataclass(frozen=True, slots=True)
class Seen:
    """Someone else's record of a request_id, as the ledger found it."""

    operation: str
    state: str
    fingerprint: bytes | None
    answer: bytes | None
    refused: bool
    lease_left: float
    """Seconds until the owner's lease ends (negative: it has ended)."""

    def same_request(self, operation: str, fingerprint: bytes) -> bool:
        return self.operation == operation and self.fingerprint in (None, fingerprint)

    @property
    def settled(self) -> bool:
        """Committed, and its answer is stored, or its owner is gone (the use case can recall it)."""
        return self.state == COMMITTED and (self.answer is not None or self.lease_left <= 0)


class RequestLedger:
    """Claims, answers and expiry of request_ids in one service's database."""

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        keep: timedelta = timedelta(hours=24),
        answer_linger: float = ANSWER_LINGER_SECONDS,
    ) -> None:
        self._engine = engine.execution_options(isolation_level="AUTOCOMMIT")
        self._keep = keep
        self._finished: dict[uuid.UUID, asyncio.Event] = {}
        """Attempts running in this process: a twin here waits on the event instead of polling."""
        self._linger = answer_linger
        self._answers: list[Answer] = []
        """Answers waiting for a claim to store them."""
        self._storing: asyncio.Future[None] | None = None
        self._leftovers = Leftovers(self._run)

    async def _run(self, statement: DriverStatement, parameters: Mapping[str, object]) -> Any:
        """The statement's first row (the driver's record, by column name), or None."""
        pooled = await lending.take(self._engine)
        try:
            return await statement.fetchrow(pooled.driver_connection, **parameters)
        finally:
            await lending.give_back(self._engine, pooled)  # for the next statement or unit of work

    async def claim(self, attempt: Attempt, fingerprint: bytes, *, lease: float) -> Attempt | Seen:
        """The attempt, when it now owns the id (run the request; `first` when the id was new); else the record
        standing in its way. Stores the answers waiting, but one of this id (its twin or retry must not be
        stored with it: a statement changes a row once)."""
        await self._leftovers.now(attempt.request_id)  # a retry after an outage: its failed attempt's claim
        carried = self._take_answers(but=attempt.request_id)
        parameters = {
            "rid": attempt.request_id,
            "op": attempt.operation,
            "prints": fingerprint,
            "attempt": attempt.owner,
            "lease": timedelta(seconds=lease),
        }
        try:
            row = await self._run(CLAIM, parameters | answer_rows(carried))
        except BaseException as error:
            self._wait_for_a_claim(carried)  # stored by the next claim, or by themselves
            if not carried or not is_database_conflict(error):
                raise
            # Two claims, each storing the answer of the other's id (twins of two requests, each arriving as the
            # other's first attempt answered), lock the two rows in opposite orders: Postgres ends one as a
            # deadlock, which the caller was answered as a collision. Alone, a claim locks only its own row.
            row = await self._run(CLAIM, parameters | answer_rows([]))
        else:
            settle_answers(carried)
        if row is not None and row["owner"] == attempt.owner:
            self._finished[attempt.request_id] = asyncio.Event()
            return replace(attempt, first=bool(row["made"]))
        seen = await self.seen(attempt.request_id)
        if seen is None:  # expired between the two statements: as good as new
            return await self.claim(attempt, fingerprint, lease=lease)
        return seen

    async def seen(self, request_id: uuid.UUID) -> Seen | None:
        row = await self._run(SEEN, {"rid": request_id})
        if row is None:
            return None
        lease_left = float(row["lease_left"]) if row["lease_left"] is not None else 0.0
        return Seen(row["operation"], row["state"], row["fingerprint"], row["answer"], bool(row["refused"]), lease_left)

    async def answer(self, attempt: Attempt, answer: bytes | None) -> None:
        """Store the response (None: the request's answer is not kept, e.g. it holds fresh credentials), with
        the next claim or, when none comes within the linger, by itself; returns once it is stored."""
        stored = asyncio.get_running_loop().create_future()
        self._wait_for_a_claim([(attempt.request_id, attempt.owner, answer, stored)])
        await stored

    def _wait_for_a_claim(self, answers: list[Answer]) -> None:
        self._answers.extend(answers)
        if self._answers and (self._storing is None or self._storing.done()):
            self._storing = asyncio.ensure_future(self._store_lingering())

    def _take_answers(self, *, but: uuid.UUID | None = None) -> list[Answer]:
        taken = [waiting for waiting in self._answers if waiting[0] != but]
        self._answers = [waiting for waiting in self._answers if waiting[0] == but]
        return taken

    async def _store_lingering(self) -> None:
        while self._answers:
            await asyncio.sleep(self._linger)
            await self.store_answers()

    async def store_answers(self) -> None:
        """Store the answers waiting, now (the service calls it when it stops). A failure is each answer's."""
        taken = self._take_answers()
        if not taken:
            return
        try:
            await self._run(STORE_ANSWERS, answer_rows(taken))
        except Exception as error:
            settle_answers(taken, error)
        else:
            settle_answers(taken)

    async def close(self) -> None:
        """Stop waiting for claims: the answers waiting are stored at once."""
        if self._storing is not None:
            self._storing.cancel()
        self._leftovers.close()
        await self.store_answers()

    async def refuse(self, attempt: Attempt, status: bytes) -> bool:
        """Store a final refusal; False when the request's change was committed (the commit is the answer)."""
        parameters = {"rid": attempt.request_id, "attempt": attempt.owner, "given": status}
        return await self._run(REFUSE, parameters) is not None

    async def release(self, attempt: Attempt, *, within: float) -> bool:
        """Forget the claim of an attempt that changed nothing; False when its change was committed. With the
        database away True (the failure answers for now), and the claim is given up once it answers again, so
        the retry the client is told to make does not wait `within` seconds for the lease."""
        try:
            return await self._run(RELEASE, {"rid": attempt.request_id, "attempt": attempt.owner}) is not None
        except Exception as error:
            log.warning("could not release the claim of %s yet: %s", attempt.request_id, error)
            self.give_up_later(attempt, within=within)
            return True

    def give_up_later(self, attempt: Attempt, *, within: float) -> None:
        """The attempt failed and its claim could not be settled: free it (or end its lease) once possible."""
        self._leftovers.later(attempt, within=within)

    def finished(self, attempt: Attempt) -> None:
        """The attempt is over (answered, refused, released or abandoned): wake its twins in this process."""
        event = self._finished.pop(attempt.request_id, None)
        if event is not None:
            event.set()

    async def wait(self, request_id: uuid.UUID, *, budget: float) -> Seen | None:
        """The record once it is settled, its owner's lease ended, or `budget` seconds passed (then as it is)."""
        deadline = time.monotonic() + budget
        pause = 0.02
        while True:
            await self._leftovers.now(request_id)
            seen = await self.seen(request_id)
            if seen is None or seen.settled or seen.lease_left <= 0:
                return seen
            left = deadline - time.monotonic()
            if left <= 0:
                return seen
            local = self._finished.get(request_id)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(min(pause, left, max(seen.lease_left, 0.01))):
                    await (local.wait() if local is not None else asyncio.Event().wait())
            pause = min(pause * 2, 0.5)

    async def expire_forever(self, *, every: float = EVERY_SECONDS) -> None:
        """Background task: forget request_ids older than the retention period (AIP-155 lets ids expire)."""
        await delete_forever(self._engine, [EXPIRE], {"keep": self._keep}, what="old request ids", every=every)
