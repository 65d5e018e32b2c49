"""What the notifications bench reads back from the service's database after a run (notifications.py): the
statements and transactions it cost, each notification's latency, when each stage finished, what was retried."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime

import sqlalchemy as sa
from costs import cpu_seconds, postgres_cpu

from services.notifications.data.tables import notifications as table


async def database_work(engine, postgres_pid: int, nats_pid: int) -> tuple[float, float, float, float]:
    """SQL statements and transactions of the notifications database so far, and the CPU seconds of
    Postgres (every backend) and of NATS: read before and after the burst, the difference per notification
    says where the service's round trips and the work it asks of the others went."""
    async with engine.connect() as connection:
        statements = await connection.scalar(
            sa.text(
                "SELECT coalesce(sum(s.calls), 0) FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid "
                "WHERE d.datname = current_database()"
            )
        )
        transactions = await connection.scalar(
            sa.text("SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = current_database()")
        )
    postgres = postgres_cpu(postgres_pid)
    return float(statements), float(transactions), postgres, cpu_seconds(nats_pid)


async def recorded_sent(engine, since: datetime, count: int, timeout: float = 60.0) -> None:  # noqa: ASYNC109
    """Waits until `count` of the run's notifications are recorded SENT: a sink holds a message a moment before the
    service records it sent (after the provider's answer), so reading latencies at once could find none."""
    query = sa.select(sa.func.count()).where(
        table.c.status == "sent", table.c.created_at >= since, table.c.kind.in_(["hold_ready", "due_soon"])
    )
    deadline = time.monotonic() + timeout
    while True:
        async with engine.connect() as connection:
            recorded = await connection.scalar(query)
        if recorded >= count:
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"only {recorded} of {count} delivered notifications recorded sent")
        await asyncio.sleep(0.1)


async def latencies(engine, since: datetime, start=table.c.event_at, end=table.c.sent_at) -> list[float]:
    query = sa.select(sa.extract("epoch", end - start)).where(
        table.c.status == "sent", table.c.created_at >= since, table.c.kind.in_(["hold_ready", "due_soon"])
    )
    async with engine.connect() as connection:
        return [float(v) for v in (await connection.execute(query)).scalars().all()]


async def phases(engine, since: datetime) -> dict[str, float]:
    """When the burst's last notification was queued (intake) and the last of each channel sent, in
    seconds after `since`: which stage held the others back."""
    query = sa.select(
        sa.func.max(table.c.created_at),
        sa.func.max(table.c.sent_at).filter(table.c.channel == "email"),
        sa.func.max(table.c.sent_at).filter(table.c.channel == "sms"),
    ).where(table.c.created_at >= since, table.c.kind.in_(["hold_ready", "due_soon"]))
    async with engine.connect() as connection:
        row = (await connection.execute(query)).one()
    return {
        name: (moment - since).total_seconds() for name, moment in zip(("queued", "email", "sms"), row, strict=True)
    }


async def retried(engine, since: datetime) -> str:
    """Notifications of the run sent after more than one attempt, with the reasons their tries failed."""
    query = (
        sa.select(table.c.channel, table.c.last_error, sa.func.count())
        .where(table.c.created_at >= since, table.c.attempts > 1)
        .group_by(table.c.channel, table.c.last_error)
        .order_by(sa.func.count().desc())
        .limit(4)
    )
    async with engine.connect() as connection:
        rows = (await connection.execute(query)).all()
    return "; ".join(f"{count} {channel} ({error or 'no error kept'})" for channel, error, count in rows) or "none"
