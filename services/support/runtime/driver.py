"""Statements run by the driver itself (asyncpg), on connections of the SQLAlchemy engine's pool."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import asyncpg as postgresql_asyncpg
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.util import greenlet_spawn

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
        return await connection.fetchrow(self.sql, *self._arguments(values))

    async def fetch(self, connection: Any, **values: Any) -> list[Any]:
        rows: list[Any] = await connection.fetch(self.sql, *self._arguments(values))
        return rows

    def _arguments(self, values: dict[str, Any]) -> tuple[Any, ...]:
        return tuple(values.get(n, self._constants.get(n)) for n in self._names)


@asynccontextmanager
async def pooled_driver(engine: AsyncEngine) -> AsyncIterator[Any]:
    """The driver's connection of one of the engine's pooled connections, given back to the pool after (the
    pool's checks, such as replacing a connection the server closed, apply as to any checkout)."""
    pooled = await engine.raw_connection()
    try:
        yield pooled.driver_connection
    finally:
        await greenlet_spawn(pooled.close)  # back to the pool
