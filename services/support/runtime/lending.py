"""The driver's connections kept between units of work, instead of checked in and out of SQLAlchemy's pool each time.

A unit of work on the driver (runtime/driver.py) and each request-ledger statement took a connection with
`engine.raw_connection()` and gave it back with the pool's `close()`: a greenlet each way, the pool's queue, the
connection record and fairy, the checkout event and the reset on return; 41-52 us of the process's CPU per unit
of work (bench/driver_checkouts.py), ~3.5 % of a loaded loans process. A `Lender` keeps the connections given back
to it (at most `keep`, the last given back lent first) still checked out of that same pool, and lends them again
without any of that: the service's connections stay bounded by the pool's size and overflow, and its sessions
always have the rest of the pool. What the pool's checkout checks (runtime/engine.py) is checked here: a
connection the server closed (a restart, pg_terminate_backend) or one left inside a transaction is discarded, and
the next is tried; one kept idle longer than `max_idle` seconds is closed with every one kept before it, and a
connection comes from the pool: a NAT or firewall may have dropped it without a word, and a statement on it (or a
pre_ping's) would wait minutes for an answer. No ping: one round trip per unit of work that rarely finds anything.
"""

from __future__ import annotations

import time
import weakref
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.util import greenlet_spawn


class Lender:
    """The driver's connections of one engine's pool: `take()` one, `give_back()` it when the unit of work ends;
    `close()` before the engine's `dispose()`, which closes only what is in the pool."""

    def __init__(self, engine: AsyncEngine, *, keep: int, max_idle: float) -> None:
        self._engine = engine
        self._keep = keep
        self._max_idle = max_idle
        self._idle: list[tuple[Any, float]] = []  # each kept connection and when it was given back, oldest first
        self._asked: list[AsyncEngine] = []

    @property
    def idle(self) -> int:
        return len(self._idle)

    async def take(self) -> Any:
        """A pooled connection (`driver_connection` is asyncpg's), outside any transaction and not closed."""
        while self._idle:
            pooled, since = self._idle.pop()
            if time.monotonic() - since > self._max_idle:  # and so is every one kept before it
                stale, self._idle = [pooled, *(kept for kept, _ in self._idle)], []
                await _close_unheard(stale)
                break
            driver = pooled.driver_connection
            if not driver.is_closed() and not driver.is_in_transaction():
                return pooled
            await greenlet_spawn(pooled.invalidate)  # the server closed it: the pool forgets it
        return await self._engine.raw_connection()  # the pool's checkout checks it the same way

    async def give_back(self, pooled: Any, *, broken: bool = False) -> None:
        """Kept for the next `take()`, or into the pool when `keep` are idle already; closed when `broken` (its
        transaction could not be ended)."""
        if broken:
            await greenlet_spawn(pooled.invalidate)
        elif len(self._idle) < self._keep:
            self._idle.append((pooled, time.monotonic()))
        else:
            await greenlet_spawn(pooled.close)

    async def close(self) -> None:
        """Every idle connection back into the pool; from now on the engine's connections go there directly."""
        _LENDERS.pop(self._engine.sync_engine.pool, None)
        for engine in self._asked:
            _ASKED.pop(engine, None)
        idle, self._idle, self._keep = self._idle, [], 0
        for pooled, _ in idle:
            await greenlet_spawn(pooled.close)


async def _close_unheard(stale: list[Any]) -> None:
    """Closed without the goodbye the pool's close waits for (up to 2 s each: the server may never hear it),
    and forgotten by the pool."""
    for pooled in stale:
        pooled.driver_connection.terminate()
        await greenlet_spawn(pooled.invalidate)


_LENDERS: weakref.WeakKeyDictionary[Any, Lender] = weakref.WeakKeyDictionary()
"""Each lender by its pool."""
_ASKED: dict[AsyncEngine, Lender] = {}
"""Each lender by the engines it was found for (a few per service, each made once): a look-up by the pool made
a weak reference and read the pool through the engine's options each time (~0.5 % of a loaded loans process)."""


def lend_from(engine: AsyncEngine, *, keep: int, max_idle: float) -> Lender:
    """The engine's driver connections (every engine made from it, e.g. by `execution_options`: they share its
    pool) go through a Lender keeping at most `keep` of them idle, none longer than `max_idle` seconds."""
    lender = _LENDERS[engine.sync_engine.pool] = Lender(engine, keep=keep, max_idle=max_idle)
    return lender


def _lender_of(engine: AsyncEngine) -> Lender | None:
    lender = _ASKED.get(engine)
    if lender is None and (lender := _LENDERS.get(engine.sync_engine.pool)) is not None and len(_ASKED) < 64:
        _ASKED[engine] = lender  # bounded, should an engine ever be made per call
        lender._asked.append(engine)
    return lender


def idle_in(pool: Any) -> int:
    """How many of the pool's checked-out connections are idle in its lender (none without one)."""
    lender = _LENDERS.get(pool)
    return lender.idle if lender is not None else 0


async def take(engine: AsyncEngine) -> Any:
    """A driver connection of the engine's pool: through its lender when it has one."""
    lender = _lender_of(engine)
    return await (lender.take() if lender is not None else engine.raw_connection())


async def give_back(engine: AsyncEngine, pooled: Any, *, broken: bool = False) -> None:
    """What `take` gave, back to the lender or the pool; closed when `broken`."""
    lender = _lender_of(engine)
    if lender is not None:
        await lender.give_back(pooled, broken=broken)
    else:
        await greenlet_spawn(pooled.invalidate if broken else pooled.close)
