"""What the loans integration tests share: the World (the use cases over a real database, fake peers, a
clock the test moves) and the actors who call them."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine
from unit.loans.desk import ADMIN, CURRENCY, DESK, Crash, Desk, crash

from services.loans.data.tables import circulation_rules
from services.support.runtime.consumers import ConsumerHealth
from services.support.runtime.messaging import NatsLink
from services.support.runtime.outbox import OUTBOX
from services.support.runtime.outbox_relay import OutboxRelay

__all__ = ["ADMIN", "CURRENCY", "DESK", "START", "Crash", "World", "crash", "relaying", "running"]
START = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


@dataclass(kw_only=True)
class World(Desk):
    """The Desk over Postgres (a SqlLoansUnitOfWork per call), and a look at the database behind it."""

    engine: AsyncEngine

    async def subjects(self) -> list[str]:
        """Outbox subjects in commit order."""
        async with self.engine.connect() as connection:
            rows = await connection.execute(sa.select(OUTBOX.c.subject).order_by(OUTBOX.c.seq))
            return [row.subject.split(".")[2] for row in rows]

    async def set_default_rule(self, **terms: object) -> None:
        async with self.engine.begin() as connection:
            await connection.execute(
                circulation_rules.update()
                .where(circulation_rules.c.patron_category == "*", circulation_rules.c.item_type == "*")
                .values(**terms)
            )

    async def scalar(self, statement: sa.Executable) -> object:
        async with self.engine.connect() as connection:
            return (await connection.execute(statement)).scalar()


@asynccontextmanager
async def relaying(world: World, nats_url: str, name: str) -> AsyncIterator[tuple[NatsLink, OutboxRelay]]:
    """A NATS link with the world's outbox relayed to it (as each loans process does), connected."""
    link = NatsLink(nats_url, name=name)
    relay = OutboxRelay(world.engine, link, poll_seconds=0.05)
    tasks = [asyncio.create_task(link.run()), asyncio.create_task(relay.run())]
    try:
        await asyncio.wait_for(link.wait_connected(), 10)
        yield link, relay
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await link.close()


class Consuming(Protocol):
    health: ConsumerHealth

    async def run(self) -> None: ...


async def running(consumer: Consuming) -> asyncio.Task[None]:
    """The consumer's loop in a task, once it is subscribed (cancel the task to stop it)."""
    task = asyncio.create_task(consumer.run())
    deadline = time.monotonic() + 10
    while not consumer.health.is_up():
        assert time.monotonic() < deadline, f"{consumer.health.name} did not come up"
        await asyncio.sleep(0.05)
    return task
