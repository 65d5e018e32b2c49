"""A NATS server a test may kill and restart (the session's is shared and must keep running), and a runtime
NATS link to the shared one."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from services.support.launcher.local_postgres import LocalPostgres
from services.support.launcher.nats import LocalNats
from services.support.launcher.processes import Supervisor
from services.support.runtime.messaging import NatsLink
from services.support.runtime.migrations import upgrade_to_head


@pytest.fixture
def own_nats(launcher_dir: Path, infra_supervisor, free_port_source: Iterator[int]) -> Iterator[LocalNats]:
    name = f"nats-own-{time.monotonic_ns()}"
    server = LocalNats(launcher_dir / name, next(free_port_source), infra_supervisor, name=name)
    server.start()
    yield server
    server.stop()


@pytest.fixture
async def link(nats: str) -> AsyncIterator[NatsLink]:
    """A connected NatsLink to the session's NATS (a test module on its own server defines its own)."""
    link = NatsLink(nats, name="runtime-test")
    connecting = asyncio.create_task(link.run())
    await asyncio.wait_for(link.wait_connected(), 10)
    yield link
    connecting.cancel()
    await link.close()


@pytest.fixture
async def engine(postgres, request: pytest.FixtureRequest) -> AsyncIterator[AsyncEngine]:
    """A fresh database with a service's tables, outbox and request ledger (the catalog's: any would do; a
    module that needs another defines its own), named after the test module."""
    url = postgres.fresh_database(request.module.__name__.rsplit(".", 1)[-1].removeprefix("test_")[:40])
    await asyncio.to_thread(upgrade_to_head, "catalog", url)
    engine = create_async_engine(url)
    yield engine
    await engine.dispose()


@pytest.fixture
def own_postgres(free_port_source) -> Iterator[tuple[LocalPostgres, Supervisor]]:
    """A Postgres of this test alone: restarting the session's would disturb the other tests."""
    root = Path(tempfile.mkdtemp(prefix="athenaeum-own-postgres-"))
    root.chmod(0o755)  # Postgres runs as its own account when the tests run as root
    with Supervisor(root / "logs") as supervisor:
        server = LocalPostgres(root / "postgres", next(free_port_source), supervisor)
        server.start()
        yield server, supervisor
    shutil.rmtree(root, ignore_errors=True)
