"""Each service's Alembic migrations build exactly the tables its code declares (no drift either way)."""

from __future__ import annotations

import asyncio
import importlib
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.ext.asyncio import create_async_engine

from services.support.runtime import idempotency  # noqa: F401  (declares idempotent_requests in messaging_metadata)
from services.support.runtime.migrations import upgrade_to_head
from services.support.runtime.outbox import messaging_metadata

pytestmark = pytest.mark.integration

SERVICES_DIR = Path(__file__).resolve().parents[3] / "services"
WITH_MIGRATIONS = sorted(p.parent.parent.name for p in SERVICES_DIR.glob("*/migrations/env.py"))


def declared_metadata(service: str) -> list[sa.MetaData]:
    """The tables a service's code declares: its data layer's `metadata`, plus the shared messaging tables."""
    try:
        tables = importlib.import_module(f"services.{service}.data.tables")
    except ModuleNotFoundError:
        return [messaging_metadata]  # a service with no tables of its own yet
    return [tables.metadata, messaging_metadata]


def _differences(connection: sa.Connection, metadata: list[sa.MetaData]) -> list[Any]:
    # Partitions (monthly ones are made at run time) follow their parent table, which is compared.
    partitions = set(connection.scalars(sa.text("SELECT relname FROM pg_class WHERE relispartition")))

    def not_a_partition(item: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
        table = name if type_ == "table" else getattr(getattr(item, "table", None), "name", None)
        return table not in partitions

    context = MigrationContext.configure(
        connection,
        opts={"compare_type": True, "compare_server_default": False, "include_object": not_a_partition},
    )
    return [diff for diff in compare_metadata(context, metadata) if not _is_alembic_bookkeeping(diff)]


def _is_alembic_bookkeeping(diff: Any) -> bool:
    return isinstance(diff, tuple) and diff[0] == "remove_table" and diff[1].name == "alembic_version"


@pytest.mark.parametrize("service", WITH_MIGRATIONS)
async def test_migrations_produce_exactly_the_declared_tables(service: str, postgres: Any) -> None:
    url = await asyncio.to_thread(postgres.fresh_database, f"migrations_{service}")
    await asyncio.to_thread(upgrade_to_head, service, url)
    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            differences = await connection.run_sync(_differences, declared_metadata(service))
    finally:
        await engine.dispose()
    assert differences == [], f"{service}: migrations and code disagree: {differences}"
