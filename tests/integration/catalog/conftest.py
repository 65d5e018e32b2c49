from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable

import asyncpg
import pytest
from sqlalchemy.ext.asyncio import create_async_engine

from services.catalog.api import events
from services.catalog.data.unit_of_work import SqlCatalogUnitOfWork
from services.support.launcher.postgres import asyncpg_dsn
from services.support.runtime.db import session_factory
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


@pytest.fixture
async def catalog_uow(postgres) -> AsyncIterator[Callable[[], SqlCatalogUnitOfWork]]:
    """A fresh, migrated catalog database; yields a unit-of-work factory over it."""
    url = await _unicode_database(postgres)
    await asyncio.to_thread(upgrade_to_head, "catalog", url)
    engine = create_async_engine(url, pool_size=20)
    sessions = session_factory(engine)
    yield lambda: SqlCatalogUnitOfWork(sessions, encode=events.encode)
    await engine.dispose()
