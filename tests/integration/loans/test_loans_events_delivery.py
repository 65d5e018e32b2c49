"""Every committed loans event reaches JetStream exactly once per event id, even when NATS stops and comes
back mid-run; while it is away, loans still succeed and their events wait in the outbox."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator

import nats as nats_py
import pytest
import sqlalchemy as sa
from loans_world import DESK, World, relaying

from services.loans.app.issuing import IssueLoan
from services.loans.app.returning import ReturnLoan
from services.support.launcher.nats import LocalNats
from services.support.runtime.messaging import stream_name
from services.support.runtime.outbox import OUTBOX
from services.support.runtime.outbox_relay import OutboxRelay

pytestmark = pytest.mark.integration


@pytest.fixture
async def relay(world: World, own_nats: LocalNats) -> AsyncIterator[OutboxRelay]:
    async with relaying(world, own_nats.url, "loans-events-test") as (_, relay):
        yield relay


async def _lend_and_return(world: World, book: str, patron: str) -> None:
    loan = await world.issue(IssueLoan(patron, book=book, actor=DESK))
    await world.return_loan(ReturnLoan(loan_id=loan.id, actor=DESK))


async def _stream_msg_ids(url: str) -> Counter[str]:
    client = await nats_py.connect(url)
    try:
        js = client.jetstream()
        state = (await js.stream_info(stream_name("loans"))).state
        ids: Counter[str] = Counter()
        for seq in range(state.first_seq, state.last_seq + 1):
            message = await js.get_msg(stream_name("loans"), seq)
            ids[(message.headers or {}).get("Nats-Msg-Id", "")] += 1
        return ids
    finally:
        await client.close()


async def _wait_for_empty_backlog(relay: OutboxRelay, limit_seconds: float = 30.0) -> None:
    deadline = time.monotonic() + limit_seconds
    while await relay.backlog():
        assert time.monotonic() < deadline, "the outbox never drained"
        await asyncio.sleep(0.05)


async def test_events_arrive_exactly_once_across_a_nats_restart(
    world: World, own_nats: LocalNats, infra_supervisor, relay: OutboxRelay
) -> None:
    book, _ = world.catalog.add_book(copies=3)
    for i in range(10):
        await _lend_and_return(world, book, f"users/before{i}")
    await _wait_for_empty_backlog(relay)
    await asyncio.to_thread(own_nats.stop)
    for i in range(10):  # NATS is down: circulation goes on, events wait in the outbox
        await _lend_and_return(world, book, f"users/during{i}")
    assert await relay.backlog() == 20
    # As if a relay had died after publishing but before marking: these go out a second time.
    async with world.engine.begin() as connection:
        first = sa.select(OUTBOX.c.seq).order_by(OUTBOX.c.seq).limit(10).scalar_subquery()
        await connection.execute(sa.update(OUTBOX).where(OUTBOX.c.seq.in_(first)).values(published_at=None))
    await asyncio.to_thread(_start_again, infra_supervisor, own_nats)
    for i in range(10):
        await _lend_and_return(world, book, f"users/after{i}")
    await _wait_for_empty_backlog(relay)

    async with world.engine.connect() as connection:
        committed = {str(row.event_id) for row in await connection.execute(sa.select(OUTBOX.c.event_id))}
    delivered = await _stream_msg_ids(own_nats.url)
    assert len(committed) == 60  # LoanIssued and LoanReturned for each of the 30 loans
    assert set(delivered) == committed
    assert max(delivered.values()) == 1


def _start_again(supervisor, server: LocalNats) -> None:
    """The same server again (same store, same port), ready when JetStream is healthy."""
    supervisor.process(server.name).start()
    server.wait_ready()
