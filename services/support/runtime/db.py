"""The SQLAlchemy 2 unit-of-work base every service builds on (the engine and its sessions: engine.py).

Repositories never commit. The unit of work owns the transaction: `commit()` writes the aggregates and the
outbox rows of the events they recorded in one transaction, then wakes the outbox relay.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterable, Mapping
from types import TracebackType
from typing import Any, Self, cast

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as upsert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.support.runtime.carrying import Carried, RequestRecord
from services.support.runtime.conflicts import count_commit
from services.support.runtime.driver import (
    ADVISORY_LOCK,
    DriverConnection,
    DriverStatement,
    DriverTransaction,
    JoiningSession,
    SessionOnDemand,
)
from services.support.runtime.outbox import OUTBOX, OutboxMessage
from services.support.runtime.repository import DriverAccess, TrackingRepository

# An event whose id is already in the outbox is the same event announced again (ids derived from what they
# announce, e.g. a loan's reminder step): it is dropped, not an error that would undo the transaction.
_OUTBOX_INSERT = upsert(OUTBOX).on_conflict_do_nothing(index_elements=["event_id"])
OUTBOX_SLICE = 1000
"""Outbox rows written per statement at commit."""

_OUTBOX_ROWS = DriverStatement(
    upsert(OUTBOX)
    .values({name: sa.bindparam(name, type_=OUTBOX.c[name].type) for name in OutboxMessage.COLUMNS})
    .on_conflict_do_nothing(index_elements=["event_id"])
)


_TRY_LEAD = DriverStatement(
    sa.select(sa.func.pg_try_advisory_xact_lock(sa.func.hashtextextended(sa.bindparam("task", type_=sa.Text), 1)))
)


EventEncoder = Callable[[Any], OutboxMessage]


def _weakly(method: Any) -> Any:
    """A bound method called through a weak reference to its object: what a unit of work hands its repositories
    must not hold it, or every unit of work is a cycle that only the garbage collector frees (with its session,
    repositories and what they read), a young collection's work on every call (bench/README.md)."""
    owner, function = weakref.ref(method.__self__), method.__func__
    return lambda *args: function(owner(), *args)


class SqlAlchemyUnitOfWork:
    """One transaction. Subclasses open their repositories in `_open(session)` and list them in
    `_repositories()`; `encode` turns each recorded domain event into an outbox message.

    `read_only`: for the read use cases, over `read_session_factory` sessions (no transaction at all);
    such a unit of work refuses to commit, since its statements would not have been atomic. With
    `read_sessions`, `async with uow.reading():` makes one block of a read-write unit of work such a read.
    `on_driver`: the transaction is the driver's own (DriverTransaction), not a session's, for the hottest use
    cases (the saga's steps): their repositories' DriverStatements run on the driver, anything else on a
    session that joins the same transaction on the same connection.
    With both, `async with uow.single_write():` makes one block a change of one statement, committed by itself."""

    session: AsyncSession

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        encode: EventEncoder,
        on_commit: Callable[[], None] = lambda: None,
        read_only: bool = False,
        read_sessions: async_sessionmaker[AsyncSession] | None = None,
        on_driver: bool = False,
    ) -> None:
        self._sessions = sessions
        self._encode = encode
        self._on_commit = on_commit
        self._always_read_only = self.read_only = read_only
        self._read_sessions = read_sessions
        self._on_driver = on_driver
        self._next_reads = self._next_single = self._single = self._written = self._carried = False
        self._request: RequestRecord | None = None
        self._connection: DriverConnection | None = None
        self._driver_access: DriverAccess | None = None

    def _open(self, session: AsyncSession) -> None:
        raise NotImplementedError

    def _repositories(self) -> Iterable[TrackingRepository]:
        raise NotImplementedError

    def reading(self) -> Self:
        """The next `async with` block only reads: no transaction, one round trip per statement, no commit
        (an ordinary transaction when this unit of work has no read sessions)."""
        self._next_reads = self._read_sessions is not None
        return self

    def single_write(self) -> Self:
        """The next `async with` block makes its change with one statement, which commits by itself: no
        transaction is begun or committed around it (two round trips fewer). Its reads run outside a
        transaction too, as a `reading()` block's: under READ COMMITTED they see what they would inside one
        that locks nothing. So the block takes no lock and runs one statement not marked `read`, its last: a
        second is refused before it runs. It records no event unless that write carries them (a change built
        with `carrying_events`): an outbox row of its own would be a second write. Its statements are the
        driver's (the session here only reads). `commit()` ends the block. Without a driver connection and
        read sessions, an ordinary transaction."""
        self._next_single = self._on_driver and self._read_sessions is not None
        return self

    async def __aenter__(self) -> Self:
        reads, self._next_reads = self._next_reads, False
        self._single, self._next_single, self._written = self._next_single, False, False
        self._carried, self._request = False, None
        self.read_only = self._always_read_only or reads
        sessions = self._read_sessions if (reads or self._single) and self._read_sessions else self._sessions
        engine = self._sessions.kw["bind"] if self._single else sessions.kw["bind"]
        if self._on_driver and not self.read_only and not self._single:
            self._connection = transaction = DriverTransaction(engine)
            self.session = cast(AsyncSession, JoiningSession(transaction))
        else:
            autocommit = self.read_only or self._single
            self._connection = DriverConnection(engine, transactional=False) if autocommit else None
            self.session = cast(AsyncSession, SessionOnDemand(sessions)) if autocommit else sessions()
        self._driver_access = (
            DriverAccess(
                _weakly(self.driver),
                read_only=self.read_only,
                lock=_weakly(self.advisory_lock),
                writing=_weakly(self._write_once) if self._single else None,
                carry=None if self.read_only else _weakly(self._carry_events),
                keep_request=_weakly(self._keep_request) if self._single else None,
            )
            if self._connection
            else None
        )
        self._open(self.session)
        self._flushed_events = False
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        connection, self._connection = self._connection, None
        try:
            if self.session.in_transaction():  # else no connection (or, on the driver, not the session's)
                await self.session.rollback()  # a no-op after commit; undoes everything after a failure
                await self.session.close()
        finally:
            if connection is not None:
                await connection.close()

    @property
    def repository_driver(self) -> DriverAccess | None:
        """How this unit of work's repositories run their DriverStatements (`driver`), when they do."""
        return self._driver_access

    async def driver(self) -> Any:
        """The driver's connection of a read-only or `on_driver` unit of work: taken from the pool on first use
        (without the session's machinery), inside the unit of work's transaction when it has one, and given
        back when the unit of work ends."""
        if self._connection is None:
            raise RuntimeError("this unit of work has no driver connection: read-only or on_driver ones only")
        return await self._connection.get()

    def _write_once(self) -> None:
        if self._written:
            raise RuntimeError("a single-write block writes once: a second write would not be atomic with it")
        # Before the write, what the block read has recorded nothing (an event on what it writes new shows at
        # commit(), too late to stop the write: the in-memory unit of work refuses the whole block instead).
        self._refuse_in_single_write([event for r in self._repositories() for a in r.seen for event in a.events])
        self._written = True

    def _keep_request(self, record: RequestRecord) -> None:
        if self._written:
            raise RuntimeError("a single-write block records its request before its write, which carries it")
        self._request = record

    def _carry_events(self) -> Carried:
        """The outbox rows of the events recorded so far (and a single-write block's request record), for the
        write that carries them (a single write, or a versioned update in a transaction on the driver); the
        commit writes only what is recorded after."""
        rows = [self._encode(event).row() for event in self._drain_events()]
        self._carried = self._carried or bool(rows)
        request, self._request = self._request, None
        return Carried(rows, request)

    async def commit(self) -> None:
        if self.read_only:
            raise RuntimeError("a read-only unit of work cannot commit; use the read-write one")
        events = self._drain_events()
        if self._single:
            self._refuse_in_single_write(events)
            if self._request is not None:
                raise RuntimeError("a single-write block's request record is carried by its write, which it lacks")
            if self._written:
                count_commit()  # its statement committed (it ran last, without an error)
                if self._carried:
                    self._on_commit()
            return
        await self._write_outbox(events)
        if isinstance(self._connection, DriverTransaction):
            await self._connection.commit()
        else:
            await self.session.commit()
        count_commit()
        if events or self._flushed_events or self._carried:
            self._on_commit()

    async def flush_events(self) -> None:
        """Writes the events recorded so far to the outbox, in this transaction, and lets go of the aggregates
        that recorded them, so a long unit of work (a bulk import) need not hold them all until its commit: the
        memory a process's peak took stays with it (Python keeps its arenas). An aggregate handed out before a
        flush must record nothing after it (it would not be written)."""
        events = self._drain_events()
        await self._write_outbox(events)
        self._flushed_events = self._flushed_events or bool(events)
        for repository in self._repositories():
            repository.seen.clear()

    async def _write_outbox(self, events: list[Any]) -> None:
        # In slices: a bulk import commits ~37,000 events, and encoding them all at once, then their rows and
        # the driver's copy of the parameters, doubled the import's peak memory (+41 MiB), which Python keeps.
        self._refuse_in_single_write(events)
        for start in range(0, len(events), OUTBOX_SLICE):
            messages = [self._encode(event) for event in events[start : start + OUTBOX_SLICE]]
            if isinstance(self._connection, DriverTransaction):
                await _OUTBOX_ROWS.executemany(await self._connection.get(), [m.row() for m in messages])
            else:
                await self.session.execute(_OUTBOX_INSERT, [message.row() for message in messages])

    def _refuse_in_single_write(self, events: list[Any]) -> None:
        if events and self._single:
            raise RuntimeError("a single-write block records no event its write does not carry: a second write")

    async def rollback(self) -> None:
        if isinstance(self._connection, DriverTransaction):
            await self._connection.rollback()
        else:
            await self.session.rollback()

    async def run(self, statement: DriverStatement, values: Mapping[str, Any]) -> Any:
        """The first column of the first row of a statement in this unit of work (on the driver or the session)."""
        if isinstance(self._connection, DriverTransaction):
            return await statement.fetchval(await self._connection.get(), **values)
        return await self.session.scalar(statement.statement, values)

    async def advisory_lock(self, key: str) -> None:
        """Serialises transactions on `key` (e.g. a loan's name) until this one ends: a transaction-scoped
        advisory lock (on the driver, in the round trip that begins the transaction when it is the first)."""
        if self._single:
            raise RuntimeError("a single-write block takes no lock: outside a transaction it holds nothing")
        if isinstance(self._connection, DriverTransaction):
            await self._connection.lock(key)
        else:
            await self.session.execute(ADVISORY_LOCK.statement, {"key": key})

    async def lead(self, task: str) -> bool:
        """Whether this transaction is the one, of every process on this database, that runs `task` now:
        a transaction-scoped advisory lock, so a process that dies hands the task on at once."""
        return bool(await self.run(_TRY_LEAD, {"task": task}))

    def _drain_events(self) -> list[Any]:
        drained: list[Any] = []
        for repository in self._repositories():
            for aggregate in repository.seen:
                drained.extend(aggregate.events)
                aggregate.events.clear()
        return drained
