"""A service's engine survives a Postgres restart: the first call after it works (no pre-ping round trips)."""

from __future__ import annotations

import asyncio

import pytest
import sqlalchemy as sa

from services.support.launcher.local_postgres import LocalPostgres
from services.support.launcher.processes import Supervisor
from services.support.runtime.engine import create_engine
from services.support.runtime.settings import BaseServiceSettings

pytestmark = pytest.mark.integration


def _restart(server: LocalPostgres, supervisor: Supervisor) -> None:
    supervisor.process(server.name).restart()
    server.wait_ready()


async def _select_one(engine) -> int:
    async with engine.connect() as connection:
        return int(await connection.scalar(sa.text("SELECT 1")))


async def test_the_first_call_after_a_postgres_restart_succeeds(own_postgres) -> None:
    server, supervisor = own_postgres
    engine = create_engine(BaseServiceSettings(database_url=server.admin_url))
    try:
        assert await _select_one(engine) == 1  # the pool now holds a connection
        await asyncio.to_thread(_restart, server, supervisor)
        await asyncio.sleep(0.2)  # time passes in a real service; the loop sees the old socket close
        assert await _select_one(engine) == 1
    finally:
        await engine.dispose()
