"""Claims left in the request ledger by attempts that ended while the database was away.

An attempt that fails frees its request_id (or, when its change was committed, lets a retry recall it). When
the database is away at that moment (a Postgres restart: the failure is usually the same outage), the claim
cannot be given up, and the retry the client was told to make would wait for the claim's lease — the whole
work budget — although no attempt runs any more. So the process keeps the claims it owes and gives them up as
soon as the database answers again: at once when a retry of that id arrives here, else every moment.

Giving up never lets two attempts act: it is done only for an attempt that is over (its servicer returned or
raised), only while the row is still that attempt's (`owner`), and a committed change is not freed, only its
lease ended (the retry then recalls the change instead of making it again).
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import sqlalchemy as sa

from services.support.runtime.driver import DriverStatement
from services.support.runtime.idempotency import COMMITTED, IN_PROGRESS, REQUESTS, Attempt

log = logging.getLogger("athenaeum.requests")

RETRY_SECONDS = 0.25
"""How often claims owed are tried again while the database is away: a retry waits about this much at worst."""

_P = sa.bindparam
_owned = (REQUESTS.c.request_id == _P("rid")) & (REQUESTS.c.owner == _P("attempt"))
RELEASE = DriverStatement(
    REQUESTS.delete().where(_owned & (REQUESTS.c.state == IN_PROGRESS)).returning(REQUESTS.c.request_id)
)
# A committed change without a stored answer: the lease would make a retry wait for an answer that will not
# come (its attempt is over); ended, the retry recalls the change.
_END_LEASE = DriverStatement(
    REQUESTS.update()
    .where(_owned & (REQUESTS.c.state == COMMITTED) & REQUESTS.c.answer.is_(None))
    .values(lease_until=sa.func.now())
    .returning(REQUESTS.c.request_id)
)
Run = Callable[[DriverStatement, Mapping[str, object]], Awaitable[Any]]


class Leftovers:
    """The claims this process owes the ledger, given up once the database answers."""

    def __init__(self, run: Run, *, every: float = RETRY_SECONDS) -> None:
        self._run = run
        self._every = every
        self._owed: dict[uuid.UUID, tuple[Attempt, float]] = {}
        """request_id -> the attempt that ended, and until when (monotonic) its lease could hold the id."""
        self._retrying: asyncio.Future[None] | None = None

    async def give_up(self, attempt: Attempt) -> None:
        """The attempt is over: free its id, or, when its change was committed, end its lease."""
        parameters = {"rid": attempt.request_id, "attempt": attempt.owner}
        if await self._run(RELEASE, parameters) is None:
            await self._run(_END_LEASE, parameters)

    def later(self, attempt: Attempt, *, within: float) -> None:
        """Give the claim up once the database answers; after `within` seconds its lease has ended anyway."""
        self._owed[attempt.request_id] = (attempt, time.monotonic() + within)
        if self._retrying is None or self._retrying.done():
            self._retrying = asyncio.ensure_future(self._retry())

    async def now(self, request_id: uuid.UUID) -> None:
        """A retry of this id is here: give up the claim owed for it, if any, before it looks at the ledger."""
        owed = self._owed.get(request_id)
        if owed is not None:
            await self._try(owed[0])

    async def _try(self, attempt: Attempt) -> bool:
        try:
            await self.give_up(attempt)
        except Exception as error:
            log.debug("still could not give up the claim of %s: %s", attempt.request_id, error)
            return False
        if self._owed.get(attempt.request_id, (None,))[0] is attempt:
            del self._owed[attempt.request_id]
        log.info("gave up the claim of %s, left while the database was away", attempt.request_id)
        return True

    async def _retry(self) -> None:
        while self._owed:
            await asyncio.sleep(self._every)
            for attempt, until in list(self._owed.values()):
                if until < time.monotonic():  # its lease has ended: a retry takes the id over by itself
                    self._owed.pop(attempt.request_id, None)
                elif not await self._try(attempt):
                    break  # the database is still away: the others would fail the same way

    def close(self) -> None:
        if self._retrying is not None:
            self._retrying.cancel()
