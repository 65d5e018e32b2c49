"""SQLAlchemy 2 async engine and the unit-of-work base every service builds on.

Repositories never commit. The unit of work owns the transaction: `commit()` writes the aggregates and the
outbox rows of the events they recorded in one transaction, then wakes the outbox relay.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from types import TracebackType
from typing import Any, Protocol, Self, TypeVar, cast

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.dialects.postgresql import asyncpg as postgresql_asyncpg
from sqlalchemy.dialects.postgresql import insert as upsert
from sqlalchemy.exc import DisconnectionError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.util import greenlet_spawn

from services.support.runtime.conflicts import CONCURRENT_UPDATE
from services.support.runtime.errors import Conflict
from services.support.runtime.outbox import OUTBOX, OutboxMessage
from services.support.runtime.settings import BaseServiceSettings
from services.support.runtime.telemetry import DB_POOLS
from services.support.runtime.tracing import instrument_engine


def create_engine(settings: BaseServiceSettings) -> AsyncEngine:
    engine = create_async_engine(
        settings.database_url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_pool_overflow,
    )
    # Instead of pool_pre_ping, which costs three round trips (BEGIN, ";", ROLLBACK) per checkout, about
    # 0.6 ms of every unit of work: a connection the server closed (restart, crash, idle timeout) is already
    # marked closed by asyncpg when it is checked out, and the pool replaces it.
    event.listen(engine.sync_engine.pool, "checkout", _replace_if_closed)
    DB_POOLS.watch(engine.url.database or "", engine.sync_engine.pool)
    instrument_engine(engine)
    return engine


def _replace_if_closed(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    if dbapi_connection.driver_connection.is_closed():
        raise DisconnectionError("the server closed this connection")


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


# An event whose id is already in the outbox is the same event announced again (ids derived from what they
# announce, e.g. a loan's reminder step): it is dropped, not an error that would undo the transaction.
_OUTBOX_INSERT = upsert(OUTBOX).on_conflict_do_nothing(index_elements=["event_id"])
OUTBOX_SLICE = 1000
"""Outbox rows written per statement at commit."""

_TRY_LEAD = sa.select(
    sa.func.pg_try_advisory_xact_lock(sa.func.hashtextextended(sa.bindparam("task", type_=sa.Text), 1))
)

_commits: ContextVar[list[int] | None] = ContextVar("athenaeum_commits", default=None)


@contextmanager
def counting_commits() -> Iterator[list[int]]:
    """Counts the units of work committed inside the block (by this task and the tasks it starts): the
    runtime repeats a call that lost a race only while it has committed nothing."""
    counter = [0]
    token = _commits.set(counter)
    try:
        yield counter
    finally:
        _commits.reset(token)


def _count_commit() -> None:
    if (counter := _commits.get()) is not None:
        counter[0] += 1


def read_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions for use cases that only read, on the same pool: in autocommit, so a read that needs one
    statement costs one round trip instead of three (BEGIN, the statement, ROLLBACK). Each statement sees
    the data committed when it starts, as every statement of a READ COMMITTED transaction does."""
    return async_sessionmaker(engine.execution_options(isolation_level="AUTOCOMMIT"), expire_on_commit=False)


_DIALECT = postgresql_asyncpg.dialect()


class DriverStatement:
    """A statement built once with SQLAlchemy and run by the driver itself (asyncpg prepares it once per
    connection and keeps it): for the hottest one-statement reads of a read-only unit of work and the request
    ledger's autocommit statements, where SQLAlchemy's work around each call (session, result processing)
    cost twice the round trip itself. Rows come as the driver's records, read by column name."""

    def __init__(self, statement: sa.ClauseElement) -> None:
        compiled = cast(SQLCompiler, statement.compile(dialect=_DIALECT))
        self.sql = str(compiled)
        self._names = tuple(compiled.positiontup or ())
        self._constants = {name: bind.effective_value for name, bind in compiled.binds.items()}  # built in

    async def fetchrow(self, connection: Any, **values: Any) -> Any:
        return await connection.fetchrow(self.sql, *(values.get(n, self._constants.get(n)) for n in self._names))


class HasEvents(Protocol):
    events: list[Any]


EventEncoder = Callable[[Any], OutboxMessage]
AggregateT = TypeVar("AggregateT", bound=HasEvents)


class TrackingRepository:
    """Remembers the aggregates it handed out, so the unit of work can collect their events. `driver`: a read-only
    unit of work's driver connection (`SqlAlchemyUnitOfWork.read_driver`), for plain reads by DriverStatement."""

    def __init__(self, session: AsyncSession, *, driver: Callable[[], Awaitable[Any]] | None = None) -> None:
        self.session = session
        self.seen: list[HasEvents] = []
        self._read_driver = driver

    async def _first(
        self, query: sa.Select[Any], values: Mapping[str, Any], *, read: DriverStatement | None = None
    ) -> Mapping[Any, Any] | None:
        """The first row `query` finds, by column name (None when none): through the driver when `read` (the
        same read, built for the driver) is given and this repository belongs to a read-only unit of work."""
        if read is not None and self._read_driver is not None:
            record: Mapping[Any, Any] | None = await read.fetchrow(await self._read_driver(), **values)
            return record
        row = (await self.session.execute(query, values)).first()
        return row._mapping if row is not None else None

    def _track(self, aggregate: AggregateT) -> AggregateT:
        self.seen.append(aggregate)
        return aggregate


class SqlAlchemyUnitOfWork:
    """One transaction. Subclasses open their repositories in `_open(session)` and list them in
    `_repositories()`; `encode` turns each recorded domain event into an outbox message.

    `read_only`: for the read use cases, over `read_session_factory` sessions (no transaction at all);
    such a unit of work refuses to commit, since its statements would not have been atomic. With
    `read_sessions`, `async with uow.reading():` makes one block of a read-write unit of work such a read."""

    session: AsyncSession

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        encode: EventEncoder,
        on_commit: Callable[[], None] = lambda: None,
        read_only: bool = False,
        read_sessions: async_sessionmaker[AsyncSession] | None = None,
    ) -> None:
        self._sessions = sessions
        self._encode = encode
        self._on_commit = on_commit
        self._always_read_only = self.read_only = read_only
        self._read_sessions = read_sessions
        self._next_reads = False
        self._driver_connection: Any = None

    def _open(self, session: AsyncSession) -> None:
        raise NotImplementedError

    def _repositories(self) -> Iterable[TrackingRepository]:
        raise NotImplementedError

    def reading(self) -> Self:
        """The next `async with` block only reads: no transaction, one round trip per statement, no commit
        (an ordinary transaction when this unit of work has no read sessions)."""
        self._next_reads = self._read_sessions is not None
        return self

    async def __aenter__(self) -> Self:
        reads, self._next_reads = self._next_reads, False
        self.read_only = self._always_read_only or reads
        self.session = (self._read_sessions if reads and self._read_sessions else self._sessions)()
        self._open(self.session)
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self.session.in_transaction():  # a session that ran nothing holds no connection
            await self.session.rollback()  # a no-op after commit; undoes everything after a failure
            await self.session.close()
        if self._driver_connection is not None:
            pooled, self._driver_connection = self._driver_connection, None
            await greenlet_spawn(pooled.close)  # back to the pool

    @property
    def read_driver(self) -> Callable[[], Awaitable[Any]] | None:
        """What a repository of this unit of work reads through the driver with (`driver`), when it is read-only."""
        return self.driver if self.read_only else None

    async def driver(self) -> Any:
        """For DriverStatement reads of a read-only unit of work: the driver's connection, taken from the
        pool on first use (without the session's machinery) and given back when the unit of work ends."""
        if not self.read_only:
            raise RuntimeError("driver statements run outside the transaction: read-only units of work only")
        if self._driver_connection is None:
            engine: AsyncEngine = self._sessions.kw["bind"]
            self._driver_connection = await engine.raw_connection()
        return self._driver_connection.driver_connection

    async def commit(self) -> None:
        if self.read_only:
            raise RuntimeError("a read-only unit of work cannot commit; use the read-write one")
        events = self._drain_events()
        # In slices: a bulk import commits ~37,000 events, and encoding them all at once, then their rows and
        # the driver's copy of the parameters, doubled the import's peak memory (+41 MiB), which Python keeps.
        for start in range(0, len(events), OUTBOX_SLICE):
            messages = [self._encode(event) for event in events[start : start + OUTBOX_SLICE]]
            await self.session.execute(_OUTBOX_INSERT, [message.row() for message in messages])
        await self.session.commit()
        _count_commit()
        if events:
            self._on_commit()

    async def rollback(self) -> None:
        await self.session.rollback()

    async def lead(self, task: str) -> bool:
        """Whether this transaction is the one, of every process on this database, that runs `task` now:
        a transaction-scoped advisory lock, so a process that dies hands the task on at once."""
        return bool(await self.session.scalar(_TRY_LEAD, {"task": task}))

    def _drain_events(self) -> list[Any]:
        drained: list[Any] = []
        for repository in self._repositories():
            for aggregate in repository.seen:
                drained.extend(aggregate.events)
                aggregate.events.clear()
        return drained


def violated_constraint(error: IntegrityError) -> str:
    """The name of the unique/foreign-key constraint an IntegrityError broke ("" when unknown)."""
    cause = getattr(error.orig, "__cause__", None)
    return str(getattr(cause, "constraint_name", None) or getattr(error.orig, "constraint_name", None) or "")


_VERSIONED_UPDATES: dict[str, sa.Update] = {}


def _versioned_update(table: sa.Table) -> sa.Update:
    statement = _VERSIONED_UPDATES.get(table.fullname)
    if statement is None:
        statement = table.update().where(
            table.c.id == sa.bindparam("row_id"), table.c.version == sa.bindparam("seen_version")
        )
        _VERSIONED_UPDATES[table.fullname] = statement
    return statement


async def update_versioned(
    session: AsyncSession, table: sa.Table, *, row_id: uuid.UUID, version: int, values: dict[str, Any], name: str
) -> None:
    """UPDATE … WHERE id = :id AND version = :seen, bumping the version; Conflict when someone else won.

    The table needs `id` and `version` columns. The value keys name the columns to set, so one statement
    per table serves every call (built once).
    """
    parameters = {**values, "version": version + 1, "row_id": row_id, "seen_version": version}
    result = await session.execute(_versioned_update(table), parameters)
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict(f"{name} was changed concurrently; re-read it and retry", reason=CONCURRENT_UPDATE)
