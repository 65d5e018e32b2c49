"""The SQLAlchemy 2 async engine of a service's database and the session factories over its pool.

Its own module because connecting is set up once, by the composition root and the command line, while the unit
of work (db.py) is what every use case runs in: the pool's checkout check and its metrics are no concern of it.
"""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import event
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.util import await_

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
    # marked closed by asyncpg when it is checked out, and the pool replaces it. One dropped silently on the
    # way (a NAT's or firewall's idle timeout) is not, and a ping would wait minutes on it as any statement
    # would: a connection idle longer than `db_connection_max_idle_seconds` is replaced instead.
    pool = engine.sync_engine.pool
    event.listen(pool, "checkin", _mark_idle)
    event.listen(pool, "checkout", _CheckoutCheck(settings.db_connection_max_idle_seconds))
    event.listen(pool, "connect", _learn_array_types)
    DB_POOLS.watch(engine.url.database or "", pool)
    instrument_engine(engine)
    return engine


ARRAY_TYPES = ("uuid", "bytea", "varchar", "text", "int8", "int4", "float8", "bool", "numeric", "timestamptz", "date")
"""The element types of the arrays the services' statements send or read (outbox rows, answers, ids, counts)."""
_ARRAYS = "SELECT " + ", ".join(f"${n}::{name}[]" for n, name in enumerate(ARRAY_TYPES, 1))


def _learn_array_types(dbapi_connection: Any, _record: Any) -> None:
    """A new connection learns every array type at once. asyncpg knows no array type before it has asked the
    server about it, and asks once per connection for each statement that brings new ones, with a catalog query
    that costs Postgres ~6-10 ms to plan (and a round trip to turn JIT off and one to turn it on again around
    it): four to five times per connection on the loan cycle, the first time each statement ran on it."""
    await_(dbapi_connection.driver_connection.prepare(_ARRAYS))


_IDLE_SINCE = "athenaeum_idle_since"
"""When the connection was last checked in (time.monotonic()), in its record's `info`: the pool clears that
for every new connection."""


def _mark_idle(_dbapi_connection: Any, record: Any) -> None:
    record.info[_IDLE_SINCE] = time.monotonic()


class _CheckoutCheck:
    """A connection the server closed, one left inside a transaction, or one idle longer than `max_idle`
    seconds is not handed out: the pool closes it and opens another in its place."""

    def __init__(self, max_idle: float) -> None:
        self._max_idle = max_idle

    def __call__(self, dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        driver = dbapi_connection.driver_connection
        if driver.is_closed():
            raise DisconnectionError("the server closed this connection")
        if driver.is_in_transaction():  # left inside a transaction: never lent again (closing it ends it)
            raise DisconnectionError("this connection came back inside a transaction")
        since = record.info.get(_IDLE_SINCE)
        if since is not None and time.monotonic() - since > self._max_idle:
            driver.terminate()  # no goodbye the server may never get: the pool's close would wait 2 s for it
            raise DisconnectionError("this connection was idle too long: it may have been dropped on the way")


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


def read_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions for use cases that only read, on the same pool: in autocommit, so a read that needs one
    statement costs one round trip instead of three (BEGIN, the statement, ROLLBACK). Each statement sees
    the data committed when it starts, as every statement of a READ COMMITTED transaction does."""
    return async_sessionmaker(engine.execution_options(isolation_level="AUTOCOMMIT"), expire_on_commit=False)
