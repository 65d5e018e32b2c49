"""A service's driver connections are lent again between units of work (runtime/lending.py), against a real
Postgres: without the pool's checkout each time; never one the server closed (a restart) or one left inside a
transaction; at most half the pool kept, so sessions have the rest; every one closed when the service closes
its database."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from services.support.runtime.driver import DriverConnection, DriverStatement, DriverTransaction
from services.support.runtime.infrastructure import Infrastructure
from services.support.runtime.migrations import upgrade_to_head
from services.support.runtime.request_ledger import RequestLedger
from services.support.runtime.settings import BaseServiceSettings
from services.support.runtime.telemetry import DB_POOLS

pytestmark = pytest.mark.integration
_BACKEND = DriverStatement(sa.select(sa.func.pg_backend_pid().label("pid")))


def _open(url: str, *, pool: int = 4) -> Infrastructure:
    return Infrastructure.open("catalog", BaseServiceSettings(database_url=url, db_pool_size=pool, db_pool_overflow=0))


@pytest.fixture
async def infra(postgres: Any) -> AsyncIterator[Infrastructure]:
    """A service's infrastructure over a fresh database with the catalog's tables (its request ledger)."""
    url = postgres.fresh_database("driver_connections_lent")
    await asyncio.to_thread(upgrade_to_head, "catalog", url)
    infra = _open(url)
    yield infra
    await infra.close_database()


async def _read(infra: Infrastructure, *, transactional: bool = False) -> int:
    """A unit of work on the driver: the backend's pid it ran on (inside a transaction with `transactional`)."""
    unit = DriverTransaction(infra.engine) if transactional else DriverConnection(infra.engine, transactional=False)
    try:
        if transactional:
            await unit.lock("patrons/lent")
        return int(await (await unit.get()).fetchval("SELECT pg_backend_pid()"))
    finally:
        await unit.close()


async def test_units_of_work_and_ledger_statements_reuse_a_connection_without_the_pools_checkout(
    infra: Infrastructure,
) -> None:
    checkouts: list[object] = []
    event.listen(infra.engine.sync_engine.pool, "checkout", lambda *_: checkouts.append(None))
    backend = await _read(infra)
    ledger = RequestLedger(infra.engine)  # its claims and answers: one statement each, on the same connections
    for transactional in (False, True, False, True):
        assert await _read(infra, transactional=transactional) == backend
        assert (await ledger._run(_BACKEND, {}))["pid"] == backend
    assert len(checkouts) == 1  # the first unit of work's only


async def test_the_first_unit_of_work_after_a_postgres_restart_succeeds(own_postgres: Any) -> None:
    server, supervisor = own_postgres
    infra = _open(server.admin_url)
    try:
        before = await _read(infra)  # kept by the lender now

        def restart() -> None:
            supervisor.process(server.name).restart()
            server.wait_ready()

        await asyncio.to_thread(restart)
        await asyncio.sleep(0.2)  # time passes in a real service; the loop sees the old socket close
        after = await _read(infra, transactional=True)
        assert after != before and await _read(infra) == after
    finally:
        await infra.close_database()


async def test_a_connection_given_back_inside_a_transaction_is_not_lent_again(infra: Infrastructure) -> None:
    pooled = await infra.lender.take()
    left = pooled.driver_connection
    await left.execute("BEGIN; SELECT pg_advisory_xact_lock(4242)")
    await infra.lender.give_back(pooled)  # a bug somewhere: its transaction still open
    unit = DriverConnection(infra.engine, transactional=False)
    try:
        connection = await unit.get()
        assert connection is not left and left.is_closed()
        assert await connection.fetchval("SELECT pg_try_advisory_lock(4242)")  # its transaction ended with it
        await connection.execute("SELECT pg_advisory_unlock(4242)")
    finally:
        await unit.close()


async def test_half_the_pool_is_kept_and_sessions_have_the_rest(infra: Infrastructure) -> None:
    pool: Any = infra.engine.sync_engine.pool
    units = [DriverConnection(infra.engine, transactional=False) for _ in range(4)]  # the whole pool
    await asyncio.gather(*(unit.get() for unit in units))
    await asyncio.gather(*(unit.close() for unit in units))
    assert infra.lender.idle == 2 and pool.checkedin() == 2
    assert _gauges(infra) == {"checked_out": 0, "idle": 4, "overflow": 0}  # the lender's idle ones are idle
    async with infra.engine.connect() as one, infra.engine.connect() as two:  # without waiting for the lender
        assert await one.scalar(sa.text("SELECT 1")) == await two.scalar(sa.text("SELECT 1")) == 1


def _gauges(infra: Infrastructure) -> dict[str, float]:
    database = infra.engine.url.database
    return {
        sample.labels["state"]: sample.value
        for metric in DB_POOLS.collect()
        for sample in metric.samples
        if sample.name == "athenaeum_db_pool_connections" and sample.labels["database"] == database
    }


async def test_closing_the_database_closes_the_kept_connections(postgres: Any) -> None:
    url = postgres.fresh_database("driver_connections_closed")
    infra = _open(url)
    await asyncio.gather(*(_read(infra) for _ in range(3)))
    assert infra.lender.idle >= 1
    await infra.close_database()
    assert infra.engine.sync_engine.pool.checkedout() == 0  # type: ignore[attr-defined]
    database = url.rsplit("/", 1)[-1].split("?", 1)[0]
    watcher = _open(postgres.admin_url)
    try:
        async with watcher.engine.connect() as connection:
            left = await connection.scalar(
                sa.text("SELECT count(*) FROM pg_stat_activity WHERE datname = :db"), {"db": database}
            )
        assert left == 0
    finally:
        await watcher.close_database()
