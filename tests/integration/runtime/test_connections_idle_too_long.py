"""A connection idle longer than `db_connection_max_idle_seconds`, in the driver's lender or in the pool, is not
used again: a NAT, a firewall or a load balancer may have dropped it silently meanwhile, and its next statement
would wait for an answer that never comes (a ping would too: SQLAlchemy's pre_ping has no deadline). A backend
the server ended (pg_terminate_backend) is seen closed, whatever its idle time."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Coroutine
from typing import Any

import pytest
import sqlalchemy as sa
from silent_proxy import SilentProxy

from services.support.runtime.driver import DriverConnection, DriverTransaction
from services.support.runtime.infrastructure import Infrastructure
from services.support.runtime.settings import BaseServiceSettings

pytestmark = pytest.mark.integration
MAX_IDLE = 0.5
ANSWER_WITHIN = 5.0  # a statement on a silently dropped connection waits for minutes (TCP's retransmissions)


def _open(url: str) -> Infrastructure:
    settings = BaseServiceSettings(
        database_url=url, db_pool_size=4, db_pool_overflow=0, db_connection_max_idle_seconds=MAX_IDLE
    )
    return Infrastructure.open("catalog", settings)


async def _backend(infra: Infrastructure, *, transactional: bool = False) -> int:
    """A unit of work on the driver: the backend's pid it ran on."""
    unit = DriverTransaction(infra.engine) if transactional else DriverConnection(infra.engine, transactional=False)
    try:
        return int(await (await unit.get()).fetchval("SELECT pg_backend_pid()"))
    finally:
        await unit.close()


async def _session_backend(infra: Infrastructure) -> int:
    """A session's statement (through the pool's checkout, not the lender): the backend's pid it ran on."""
    async with infra.sessions() as session:
        return int(await session.scalar(sa.text("SELECT pg_backend_pid()")))


async def _within_deadline(work: Coroutine[Any, Any, int]) -> int:
    """The work's answer; a failure when it waited too long (its task is left to end when the proxy closes:
    cancelled, it would wait on the dropped connection again for its ROLLBACK)."""
    task = asyncio.create_task(work)
    done, _ = await asyncio.wait([task], timeout=ANSWER_WITHIN)
    if not done:
        task.cancel()
        pytest.fail(f"no answer within {ANSWER_WITHIN} s: the silently dropped connection was used")
    return task.result()


@pytest.fixture
async def through_proxy(postgres: Any) -> AsyncIterator[tuple[SilentProxy, Infrastructure]]:
    """A service's infrastructure on a fresh database, its connections through a proxy that may drop them."""
    database = postgres.fresh_database("connections_idle_too_long").rsplit("/", 1)[-1].split("?", 1)[0]
    async with SilentProxy(postgres.admin_url).running() as proxy:
        infra = _open(proxy.url_for(database))
        try:
            yield proxy, infra
        finally:
            await infra.close_database()


async def test_a_connection_dropped_silently_while_lent_idle_is_not_lent_again(
    through_proxy: tuple[SilentProxy, Infrastructure],
) -> None:
    proxy, infra = through_proxy
    before = await _backend(infra)
    assert infra.lender.idle == 1 and await _backend(infra) == before  # lent again while not idle for long
    proxy.drop_silently()
    await asyncio.sleep(MAX_IDLE + 0.1)
    after = await _within_deadline(_backend(infra, transactional=True))
    assert after != before and infra.lender.idle == 1


async def test_a_connection_dropped_silently_while_idle_in_the_pool_is_replaced(
    through_proxy: tuple[SilentProxy, Infrastructure],
) -> None:
    proxy, infra = through_proxy
    before = await _session_backend(infra)
    assert await _session_backend(infra) == before  # the pool's again while not idle for long
    proxy.drop_silently()
    await asyncio.sleep(MAX_IDLE + 0.1)
    after = await _within_deadline(_session_backend(infra))
    assert after != before


async def test_a_backend_terminated_while_lent_idle_does_not_fail_the_next_unit_of_work(postgres: Any) -> None:
    url = postgres.fresh_database("connections_terminated")
    infra = Infrastructure.open("catalog", BaseServiceSettings(database_url=url, db_pool_size=4))
    watcher = Infrastructure.open("catalog", BaseServiceSettings(database_url=postgres.admin_url))
    try:
        before = await _backend(infra)  # kept by the lender now, idle for far less than the limit
        async with watcher.engine.connect() as connection:
            assert await connection.scalar(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": before})
        await asyncio.sleep(0.2)  # time passes in a real service; the loop sees the socket close
        after = await _backend(infra, transactional=True)
        assert after != before and await _backend(infra) == after
    finally:
        await watcher.close_database()
        await infra.close_database()
