"""The runtime's side of idempotency: claiming a request_id, answering its twins and retries, expiring old ids.

Each statement runs on its own (autocommit: one round trip), outside the servicer's transactions, through
the driver (see DriverStatement): a mutation runs two of them, and SQLAlchemy's work around each cost more
CPU than the round trip. The rows and what their states mean are described in `runtime.idempotency`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as upsert
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.util import greenlet_spawn

from services.support.runtime.driver import DriverStatement
from services.support.runtime.idempotency import COMMITTED, IN_PROGRESS, REQUESTS, Attempt

log = logging.getLogger("athenaeum.requests")

_P = sa.bindparam
_claim = upsert(REQUESTS).values(
    request_id=_P("rid"),
    operation=_P("op"),
    resource="",
    state=IN_PROGRESS,
    fingerprint=_P("prints"),
    owner=_P("attempt"),
    lease_until=sa.func.now() + _P("lease", type_=sa.Interval),
)
# A new id is ours; so is one whose attempt outlived its lease without committing (it died or hung: its late
# commit is fenced off by `remember`, which only the owner may do), when it is the same request.
_CLAIM = DriverStatement(
    _claim.on_conflict_do_update(
        index_elements=[REQUESTS.c.request_id],
        set_={"owner": _claim.excluded.owner, "lease_until": _claim.excluded.lease_until},
        where=(REQUESTS.c.state == IN_PROGRESS)
        & (REQUESTS.c.lease_until < sa.func.now())
        & (REQUESTS.c.operation == _claim.excluded.operation)
        & REQUESTS.c.fingerprint.is_not_distinct_from(_claim.excluded.fingerprint),
    ).returning(
        REQUESTS.c.owner,
        # A made row's created_at is this statement's now(); a taken-over row keeps its first claim's.
        (REQUESTS.c.created_at == sa.func.now()).label("made"),
    )
)
_SEEN = DriverStatement(
    sa.select(
        REQUESTS.c.operation,
        REQUESTS.c.state,
        REQUESTS.c.fingerprint,
        REQUESTS.c.owner,
        REQUESTS.c.answer,
        REQUESTS.c.refused,
        sa.func.extract("epoch", REQUESTS.c.lease_until - sa.func.now()).label("lease_left"),
    ).where(REQUESTS.c.request_id == _P("rid"))
)
_owned = (REQUESTS.c.request_id == _P("rid")) & (REQUESTS.c.owner == _P("attempt"))
_ANSWER = DriverStatement(
    REQUESTS.update()
    .where(_owned)
    .values(state=COMMITTED, answer=_P("given"), refused=False, lease_until=None)
    .returning(REQUESTS.c.request_id)
)
# A refusal is an answer only while nothing was committed for the request; else the commit is the answer.
_REFUSE = DriverStatement(
    REQUESTS.update()
    .where(_owned & (REQUESTS.c.state == IN_PROGRESS))
    .values(state=COMMITTED, answer=_P("given"), refused=True, lease_until=None)
    .returning(REQUESTS.c.request_id)
)
_RELEASE = DriverStatement(
    REQUESTS.delete().where(_owned & (REQUESTS.c.state == IN_PROGRESS)).returning(REQUESTS.c.request_id)
)
_EXPIRE = REQUESTS.delete().where(
    REQUESTS.c.request_id.in_(
        sa.select(REQUESTS.c.request_id)
        .where(REQUESTS.c.created_at < sa.func.now() - _P("keep", type_=sa.Interval))
        .limit(5_000)
    )
)


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

    def __init__(self, engine: AsyncEngine, *, keep: timedelta = timedelta(hours=24)) -> None:
        self._engine = engine.execution_options(isolation_level="AUTOCOMMIT")
        self._keep = keep
        self._finished: dict[uuid.UUID, asyncio.Event] = {}
        """Attempts running in this process: a twin here waits on the event instead of polling."""

    async def _run(self, statement: DriverStatement, parameters: dict[str, object]) -> Any:
        """The statement's first row (the driver's record, by column name), or None."""
        pooled = await self._engine.raw_connection()
        try:
            return await statement.fetchrow(pooled.driver_connection, **parameters)
        finally:
            await greenlet_spawn(pooled.close)  # back to the pool

    async def claim(self, attempt: Attempt, fingerprint: bytes, *, lease: float) -> Attempt | Seen:
        """The attempt, when it now owns the id (run the request; `first` when the id was new); else the record
        standing in its way."""
        row = await self._run(
            _CLAIM,
            {
                "rid": attempt.request_id,
                "op": attempt.operation,
                "prints": fingerprint,
                "attempt": attempt.owner,
                "lease": timedelta(seconds=lease),
            },
        )
        if row is not None and row["owner"] == attempt.owner:
            self._finished[attempt.request_id] = asyncio.Event()
            return replace(attempt, first=bool(row["made"]))
        seen = await self.seen(attempt.request_id)
        if seen is None:  # expired between the two statements: as good as new
            return await self.claim(attempt, fingerprint, lease=lease)
        return seen

    async def seen(self, request_id: uuid.UUID) -> Seen | None:
        row = await self._run(_SEEN, {"rid": request_id})
        if row is None:
            return None
        lease_left = float(row["lease_left"]) if row["lease_left"] is not None else 0.0
        return Seen(row["operation"], row["state"], row["fingerprint"], row["answer"], bool(row["refused"]), lease_left)

    async def answer(self, attempt: Attempt, answer: bytes | None) -> None:
        """Store the response (None: the request's answer is not kept, e.g. it holds fresh credentials)."""
        await self._run(_ANSWER, {"rid": attempt.request_id, "attempt": attempt.owner, "given": answer})

    async def refuse(self, attempt: Attempt, status: bytes) -> bool:
        """Store a final refusal; False when the request's change was committed (the commit is the answer)."""
        parameters = {"rid": attempt.request_id, "attempt": attempt.owner, "given": status}
        return await self._run(_REFUSE, parameters) is not None

    async def release(self, attempt: Attempt) -> bool:
        """Forget the claim of an attempt that changed nothing; False when its change was committed."""
        return await self._run(_RELEASE, {"rid": attempt.request_id, "attempt": attempt.owner}) is not None

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

    async def expire_forever(self, *, every: float = 3600.0) -> None:
        """Background task: forget request_ids older than the retention period (AIP-155 lets ids expire)."""
        while True:
            try:
                async with self._engine.connect() as connection:
                    while (await connection.execute(_EXPIRE, {"keep": self._keep})).rowcount:
                        pass
            except Exception as error:  # the database is away: the next round catches up
                log.warning("could not expire old request ids: %s", error)
            await asyncio.sleep(every)
