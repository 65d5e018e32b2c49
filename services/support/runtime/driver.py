"""Statements the driver (asyncpg) runs itself, and a unit of work's own connection and transaction on it.

SQLAlchemy builds every statement once, at import; the driver prepares each once per connection and keeps it.
On the hottest paths (the saga's steps, the request ledger, the reads before each issue) SQLAlchemy's work
around a call (the session, its greenlet, result processing) cost the service two to three times the round
trip itself (bench/units_of_work.py: a saga step 0.34x the CPU on the driver's transaction).
"""

from __future__ import annotations

import contextlib
import re
import weakref
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from typing import Any, cast

import asyncpg
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql.asyncpg import PGCompiler_asyncpg, PGDialect_asyncpg
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.util import greenlet_spawn

from services.support.runtime import lending


class _ConstantsWritten(PGCompiler_asyncpg):
    """Writes the statement's own constants into its text (`status = 'ACTIVE'`, `LIMIT 1`), not as parameters.
    Postgres plans a prepared statement once (a generic plan) only when that plan looks as cheap as one made
    for the values of the call: with `status = $6`, a partial index `WHERE status = 'ACTIVE'` is of no use to
    a generic plan, which then looks dearer, so every call was planned again (a return's look-up of its loan by
    barcode: ~0.5 ms of planning each, ten times its execution). Only a string, an integer or a boolean of a
    matching type that the statement was built with (an anonymous bind); a value given at the call stays one."""

    def visit_bindparam(
        self, bindparam: Any, within_columns_clause: Any = False, literal_binds: Any = False, *args: Any, **kw: Any
    ) -> Any:
        written = literal_binds or _written(bindparam)
        return super().visit_bindparam(bindparam, within_columns_clause, written, *args, **kw)


def _written(bind: sa.BindParameter[Any]) -> bool:
    """A constant of the statement that reads the same written out: see _ConstantsWritten."""
    if not bind.unique or bind.callable is not None or bind.expanding or bind.literal_execute:
        return False
    value, kind = bind.value, bind.type
    if type(value) is str:  # a backslash reads otherwise on a server without standard_conforming_strings
        return isinstance(kind, sa.String) and "\\" not in value
    if type(value) is bool:
        return isinstance(kind, sa.Boolean)
    return type(value) is int and isinstance(kind, sa.Integer)


class _Dialect(PGDialect_asyncpg):
    statement_compiler = _ConstantsWritten


_DIALECT = _Dialect()


class DriverStatement:
    """A statement built once with SQLAlchemy (`statement`, for a session) and compiled once for the driver.
    Rows come as the driver's records, read by column name (the driver decodes JSON as the engine's
    connections were set up to). Values go through the statement's bind processors, as SQLAlchemy would send
    them (a JSON value as its text).

    `read`: a plain read a read-only unit of work also runs on the driver (the hot reads before each issue);
    every DriverStatement runs there in a unit of work on the driver's transaction."""

    def __init__(self, statement: sa.Executable, *, read: bool = False) -> None:
        self.statement = statement
        self.read = read
        compiled = cast(SQLCompiler, cast(sa.ClauseElement, statement).compile(dialect=_DIALECT))
        self.sql = str(compiled)
        if "POSTCOMPILE" in self.sql:  # an IN list expanded per call: write `= ANY(array)` instead
            raise ValueError(f"the driver cannot run a statement with an expanding IN: {self.sql}")
        self._names = tuple(compiled.positiontup or ())
        self._constants = {name: bind.effective_value for name, bind in compiled.binds.items()}  # built in
        processors = compiled._bind_processors
        self._processed: tuple[tuple[str, Callable[[Any], Any]], ...] = tuple(
            (n, p) for n in self._names if callable(p := processors.get(n))
        )

    def _arguments(self, values: Mapping[str, Any]) -> list[Any]:
        if self._processed:
            values = {**values, **{n: process(values[n]) for n, process in self._processed if n in values}}
        return [values.get(n, self._constants.get(n)) for n in self._names]

    async def fetchrow(self, connection: Any, **values: Any) -> Any:
        return await connection.fetchrow(self.sql, *self._arguments(values))

    async def fetchval(self, connection: Any, **values: Any) -> Any:
        return await connection.fetchval(self.sql, *self._arguments(values))

    async def fetch(self, connection: Any, **values: Any) -> list[Any]:
        return cast(list[Any], await connection.fetch(self.sql, *self._arguments(values)))

    async def execute(self, connection: Any, **values: Any) -> int:
        """Runs the statement; how many rows it changed (the count in the server's command tag)."""
        tag = await connection.execute(self.sql, *self._arguments(values))
        count = str(tag).rsplit(" ", 1)[-1]
        return int(count) if count.isdigit() else 0

    async def executemany(self, connection: Any, rows: Sequence[Mapping[str, Any]]) -> None:
        await connection.executemany(self.sql, [self._arguments(row) for row in rows])


ADVISORY_LOCK = DriverStatement(
    sa.select(sa.func.pg_advisory_xact_lock(sa.func.hashtextextended(sa.bindparam("key", type_=sa.String), 0)))
)
"""Serialises transactions on a key (a loan, a hold, a patron) until the one that holds it ends."""
_PLAIN_KEY = re.compile(r"[A-Za-z0-9/_.:-]{1,200}")
"""Keys written into a statement's text: names of resources, never a quote, backslash or control character."""


class DriverConnection:
    """One unit of work's connection from the engine's pool, taken on first use; with `transactional`, also
    its transaction, begun with the first statement (a unit of work that ran nothing costs no round trip).

    `close()` rolls back what was not committed and gives the connection back; a connection whose
    transaction could not be ended (a unit of work cancelled while its BEGIN was on the wire, say) is closed
    instead, so no later user of the pool finds itself inside it."""

    def __init__(self, engine: AsyncEngine, *, transactional: bool) -> None:
        self._engine = engine
        self._transactional = transactional
        self._pooled: Any = None
        self._begun = False
        """A BEGIN was sent and nothing has ended its transaction since: set before the round trip, since the
        connection's own view (`is_in_transaction`) lags while a cancelled BEGIN is still on its way."""

    async def get(self) -> asyncpg.Connection:
        connection = await self._connection()
        if self._transactional and not self._begun:
            self._begun = True
            await connection.execute("BEGIN")
        return connection

    async def lock(self, key: str) -> None:
        """A transaction-scoped advisory lock on `key`: in the round trip that begins the transaction when it
        is the transaction's first statement and the key is plain enough to be written into it."""
        connection = await self._connection()
        if self._transactional and not self._begun and _PLAIN_KEY.fullmatch(key):
            self._begun = True
            await connection.execute(f"BEGIN; SELECT pg_advisory_xact_lock(hashtextextended('{key}', 0))")
        else:
            await ADVISORY_LOCK.fetchval(await self.get(), key=key)

    async def _connection(self) -> asyncpg.Connection:
        if self._pooled is None:
            self._pooled = await self._checkout()
        return cast(asyncpg.Connection, self._pooled.driver_connection)

    async def _checkout(self) -> Any:
        return await lending.take(self._engine)

    async def _give_back(self, pooled: Any, *, broken: bool) -> None:
        await lending.give_back(self._engine, pooled, broken=broken)

    async def commit(self) -> None:
        await self._end("COMMIT")

    async def rollback(self) -> None:
        """Undoes the transaction; the next statement begins another."""
        await self._end("ROLLBACK")

    async def _end(self, how: str) -> None:
        if self._begun:
            await self._pooled.driver_connection.execute(how)
            self._begun = False

    async def close(self) -> None:
        if self._pooled is None:
            return
        broken = False
        try:
            await self.rollback()  # undoes everything after a failure; nothing after a commit
        except BaseException as error:
            broken = True  # the pool discards it: closed, it takes its transaction with it
            if not isinstance(error, Exception):
                raise  # a cancellation goes on; a failed ROLLBACK has nothing left to undo
        finally:
            pooled, self._pooled = self._pooled, None
            await self._give_back(pooled, broken=broken)


_AUTOCOMMIT_ENGINES: weakref.WeakKeyDictionary[Any, AsyncEngine] = weakref.WeakKeyDictionary()


def _autocommit(engine: AsyncEngine) -> AsyncEngine:
    """The engine's connections in autocommit (built once per engine): a session on one begins no
    transaction of its own, so its statements join the driver's."""
    found = _AUTOCOMMIT_ENGINES.get(engine.sync_engine)
    if found is None:
        found = _AUTOCOMMIT_ENGINES[engine.sync_engine] = engine.execution_options(isolation_level="AUTOCOMMIT")
    return found


class DriverTransaction(DriverConnection):
    """An `on_driver` unit of work's connection and the driver's transaction on it, begun with the first
    statement; and a session on the same connection for the statements that have no driver form. The session
    runs in autocommit, so what it runs joins the driver's transaction (`JoiningSession` begins it first)."""

    def __init__(self, engine: AsyncEngine) -> None:
        super().__init__(engine, transactional=True)
        self._core: AsyncConnection | None = None
        self._session: AsyncSession | None = None

    async def session(self) -> AsyncSession:
        await self.get()
        if self._session is None:
            # Only now a Core connection, over the connection the pool already gave (most units of work never
            # need one: it cost ~0.1 ms of CPU each); closing it gives that connection back.
            engine = _autocommit(self._engine)
            core = await greenlet_spawn(Connection, engine.sync_engine, connection=self._pooled)
            self._core = AsyncConnection(engine, core)
            self._session = AsyncSession(bind=self._core, expire_on_commit=False)
        return self._session

    async def _give_back(self, pooled: Any, *, broken: bool) -> None:
        core, self._core = self._core, None
        session, self._session = self._session, None
        if session is not None:
            await session.close()  # in autocommit: nothing of its own to roll back
        if core is None:
            await super()._give_back(pooled, broken=broken)
            return
        if broken:
            await core.invalidate()
        await core.close()


class JoiningSession:
    """What the repositories of an `on_driver` unit of work use for a session: each statement first joins the
    driver's transaction (beginning it), then runs on the session that shares its connection."""

    def __init__(self, transaction: DriverTransaction) -> None:
        self._transaction = transaction

    async def execute(self, *args: Any, **kwargs: Any) -> Any:
        return await (await self._transaction.session()).execute(*args, **kwargs)

    async def scalar(self, *args: Any, **kwargs: Any) -> Any:
        return await (await self._transaction.session()).scalar(*args, **kwargs)

    async def scalars(self, *args: Any, **kwargs: Any) -> Any:
        return await (await self._transaction.session()).scalars(*args, **kwargs)

    @contextlib.asynccontextmanager
    async def begin_nested(self) -> AsyncIterator[None]:
        async with (await self._transaction.session()).begin_nested():
            yield

    def in_transaction(self) -> bool:
        return False  # its unit of work ends the driver's transaction itself


class SessionOnDemand:
    """The session of a read-only or single-write block, made by `make` when a statement that has no driver form
    first asks for it. Most such blocks run only DriverStatements on the driver's connection, and making the
    AsyncSession (and its Session) each time cost ~1-1.5 % of a loaded loans or catalog process for nothing."""

    __slots__ = ("_make", "_session")

    def __init__(self, make: Callable[[], Any]) -> None:
        self._make = make
        self._session: Any = None

    def in_transaction(self) -> bool:
        return self._session is not None and bool(self._session.in_transaction())

    def __getattr__(self, name: str) -> Any:  # only what the slots and in_transaction do not answer
        if self._session is None:
            self._session = self._make()
        return getattr(self._session, name)


INTEGRITY_ERRORS: tuple[type[Exception], ...] = (sa.exc.IntegrityError, asyncpg.IntegrityConstraintViolationError)
"""A broken unique or foreign-key constraint, through a session or on the driver."""


def violated_constraint(error: BaseException) -> str:
    """The name of the unique/foreign-key constraint an integrity error broke ("" when unknown)."""
    orig = getattr(error, "orig", None)
    for cause in (error, orig, getattr(orig, "__cause__", None)):
        if name := getattr(cause, "constraint_name", None):
            return str(name)
    return ""
