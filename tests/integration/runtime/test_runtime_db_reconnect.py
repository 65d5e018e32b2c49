"""A service's engine survives a Postgres restart: the first call after it works (no pre-ping round trips)."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from services.support.launcher.local_postgres import LocalPostgres
from services.support.launcher.processes import Supervisor
from services.support.runtime.engine import create_engine
from services.support.runtime.settings import BaseServiceSettings

pytestmark = pytest.mark.integration


@pytest.fixture
def own_postgres(free_port_source) -> Iterator[tuple[LocalPostgres, Supervisor]]:
    """A Postgres of this test alone: restarting the session's would disturb the other tests."""
    root = Path(tempfile.mkdtemp(prefix="athenaeum-reconnect-"))
    root.chmod(0o755)  # Postgres runs as its own account when the tests run as root
    with Supervisor(root / "logs") as supervisor:
        server = LocalPostgres(root / "postgres", next(free_port_source), supervisor)
        server.start()
        yield server, supervisor
    shutil.rmtree(root, ignore_errors=True)


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
