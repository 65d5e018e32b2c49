"""A migration that waits for a table's lock gives up after LOCK_TIMEOUT and is tried again: the old release
serves while its successor migrates, and an ALTER or index build queued behind a long transaction would
otherwise queue every later reader and writer of that table behind itself."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from alembic import command
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine

from services.support.runtime import migrations
from services.support.runtime.migrations import alembic_config, schema_state, upgrade_to_head

pytestmark = pytest.mark.integration
BEFORE = "0007"  # catalog 0008 builds an index on books: it needs a lock no writer of books may hold


@pytest.fixture
def short_waits(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(migrations, "LOCK_TIMEOUT", "300ms", raising=False)
    monkeypatch.setattr(migrations, "LOCK_ATTEMPTS", 3, raising=False)


@pytest.fixture
async def catalog_at_0007(postgres: Any) -> str:
    url = await asyncio.to_thread(postgres.fresh_database, "lock_timeout")
    await asyncio.to_thread(command.upgrade, alembic_config("catalog", url), BEFORE)
    return url


async def _writing_books(url: str) -> AsyncIterator[AsyncConnection]:
    """A long transaction that writes books (a catalog import is one)."""
    engine = create_async_engine(url)
    async with engine.connect() as connection:
        await connection.exec_driver_sql("BEGIN")
        await connection.exec_driver_sql("LOCK TABLE books IN ROW EXCLUSIVE MODE")
        yield connection
        await connection.exec_driver_sql("ROLLBACK")
    await engine.dispose()


async def test_a_migration_behind_a_long_transaction_gives_up_instead_of_waiting(
    catalog_at_0007: str, short_waits: None
) -> None:
    writer = _writing_books(catalog_at_0007)
    await anext(writer)
    started = time.monotonic()
    migrating = asyncio.create_task(asyncio.to_thread(upgrade_to_head, "catalog", catalog_at_0007))
    try:
        done, _ = await asyncio.wait({migrating}, timeout=15)
        assert done, "the migration still waits for the lock"
        with pytest.raises(DBAPIError, match="lock timeout"):
            migrating.result()
        assert time.monotonic() - started < 15
    finally:
        await anext(writer, None)
        await asyncio.wait({migrating}, timeout=30)
    state = await asyncio.to_thread(schema_state, "catalog", catalog_at_0007)
    assert state.current == frozenset({BEFORE})  # nothing half done: the waiting migration rolled back


async def test_the_run_goes_on_once_the_long_transaction_ends(catalog_at_0007: str, short_waits: None) -> None:
    writer = _writing_books(catalog_at_0007)
    await anext(writer)
    migrating = asyncio.create_task(asyncio.to_thread(upgrade_to_head, "catalog", catalog_at_0007))
    await asyncio.sleep(0.5)  # past the first lock timeout
    await anext(writer, None)

    await asyncio.wait_for(migrating, 30)
    state = await asyncio.to_thread(schema_state, "catalog", catalog_at_0007)
    assert state.ready
