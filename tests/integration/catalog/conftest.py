from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from services.catalog.api import events
from services.catalog.data.unit_of_work import SqlCatalogUnitOfWork
from services.support.launcher.postgres import asyncpg_dsn
from services.support.runtime.engine import read_session_factory, session_factory
from services.support.runtime.migrations import upgrade_to_head


async def _unicode_database(postgres) -> str:
    """A fresh database whose character classes know Unicode (trigrams of Cyrillic words need it),
    whatever locale the test cluster was initialised with."""
    name = f"catalog_{uuid.uuid4().hex[:12]}"
    connection = await asyncpg.connect(asyncpg_dsn(postgres.admin_url))
    try:
        await connection.execute(f"CREATE DATABASE {name} TEMPLATE template0 LC_COLLATE 'C' LC_CTYPE 'C.UTF-8'")
    finally:
        await connection.close()
    return postgres.url_for(name)


class CatalogUnits:
    """Units of work over one catalog database: `()` the read-write kind, `reads()` the read-only kind the
    service gives its read use cases (autocommit, no transaction), `circulation()` the kind it gives the
    saga's steps (the driver's own transaction, or single writes)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._sessions = session_factory(engine)
        self._read_sessions = read_session_factory(engine)

    def __call__(self) -> SqlCatalogUnitOfWork:
        return SqlCatalogUnitOfWork(self._sessions, encode=events.encode)

    def reads(self) -> SqlCatalogUnitOfWork:
        return SqlCatalogUnitOfWork(self._read_sessions, encode=events.encode, read_only=True)

    def circulation(self) -> SqlCatalogUnitOfWork:
        return SqlCatalogUnitOfWork(
            self._sessions, encode=events.encode, on_driver=True, read_sessions=self._read_sessions
        )

    def with_reading(self) -> SqlCatalogUnitOfWork:
        """Read-write, with blocks that may be entered `reading()` (as the loans service's)."""
        return SqlCatalogUnitOfWork(self._sessions, encode=events.encode, read_sessions=self._read_sessions)


@pytest.fixture
async def catalog_uow(postgres) -> AsyncIterator[CatalogUnits]:
    """A fresh, migrated catalog database; yields the unit-of-work factories over it."""
    url = await _unicode_database(postgres)
    await asyncio.to_thread(upgrade_to_head, "catalog", url)
    engine = create_async_engine(url, pool_size=20)
    yield CatalogUnits(engine)
    await engine.dispose()
