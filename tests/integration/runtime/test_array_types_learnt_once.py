"""A service's new database connection learns the array types its statements use in one look-up, when it is
opened (runtime/engine.py), against a real Postgres: asyncpg otherwise asked the server about them statement by
statement, each time with a catalog query that costs Postgres milliseconds to plan."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import asyncpg
import pytest

from services.support.runtime.driver import DriverConnection
from services.support.runtime.infrastructure import Infrastructure
from services.support.runtime.settings import BaseServiceSettings

pytestmark = pytest.mark.integration
ARRAYS = ("uuid", "bytea", "int8", "varchar", "timestamptz", "text")


@pytest.fixture
def look_ups(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[list[int]]]:
    """The type ids of each look-up asyncpg makes (its catalog query), as they happen."""
    made: list[list[int]] = []
    original = asyncpg.Connection._introspect_types

    async def counted(self: asyncpg.Connection, typeoids: Any, timeout: Any) -> Any:  # noqa: ASYNC109 - its signature
        made.append(list(typeoids))
        return await original(self, typeoids, timeout)

    monkeypatch.setattr(asyncpg.Connection, "_introspect_types", counted)
    yield made


async def test_a_new_connection_learns_every_array_type_in_one_look_up(postgres: Any, look_ups: list) -> None:
    url = postgres.fresh_database("array_types_learnt")
    infra = Infrastructure.open("catalog", BaseServiceSettings(database_url=url, db_pool_size=2, db_pool_overflow=0))
    try:
        unit = DriverConnection(infra.engine, transactional=False)
        try:
            connection = await unit.get()
            for name in ARRAYS:  # one statement each, as the outbox relay, the ledger and the repositories send them
                assert await connection.fetchval(f"SELECT cardinality($1::{name}[])", []) == 0
        finally:
            await unit.close()
    finally:
        await infra.close_database()
    assert len(look_ups) == 1
