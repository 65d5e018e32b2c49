from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import pytest
from sqlalchemy.ext.asyncio import create_async_engine

from services.catalog import events
from services.catalog.repository import SqlCatalogUnitOfWork
from services.runtime.db import session_factory
from services.runtime.migrations import upgrade_to_head


@pytest.fixture
async def catalog_uow(postgres) -> AsyncIterator[Callable[[], SqlCatalogUnitOfWork]]:
    """A fresh, migrated catalog database; yields a unit-of-work factory over it."""
    url = postgres.fresh_database("catalog")
    await asyncio.to_thread(upgrade_to_head, "catalog", url)
    engine = create_async_engine(url)
    sessions = session_factory(engine)
    yield lambda: SqlCatalogUnitOfWork(sessions, encode=events.encode)
    await engine.dispose()
