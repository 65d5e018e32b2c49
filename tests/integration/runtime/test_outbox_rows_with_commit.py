"""A driver's transaction writes a few events' outbox rows in its COMMIT's round trip, their values written into
the statement (`outbox.rows_written_in`): against a real Postgres, what comes back is what was recorded, byte
for byte, whatever the values hold; many events go before the COMMIT as before; and a row that fails undoes
the whole transaction."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine

from services.support.runtime.db import OUTBOX_WITH_COMMIT, SqlAlchemyUnitOfWork, read_session_factory, session_factory
from services.support.runtime.driver import DriverStatement
from services.support.runtime.migrations import upgrade_to_head
from services.support.runtime.outbox import OUTBOX, OutboxMessage
from services.support.runtime.repository import TrackingRepository

pytestmark = pytest.mark.integration
AT = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)
HOSTILE = "o'brien\\'; DROP TABLE outbox; -- $$ \" \n\t ✓ 𝄞 \u202e"


@dataclass
class Recorder:
    """An aggregate that has recorded the given messages (the test's encoder passes them through)."""

    events: list[Any] = field(default_factory=list)


class Unit(SqlAlchemyUnitOfWork):
    def _open(self, session: AsyncSession) -> None:
        self.log = TrackingRepository(session, driver=self.repository_driver)

    def _repositories(self) -> Iterable[TrackingRepository]:
        return (self.log,)

    def record(self, *messages: OutboxMessage) -> None:
        self.log.seen.append(Recorder(list(messages)))


@pytest.fixture
async def engine(postgres) -> AsyncIterator[AsyncEngine]:
    url = postgres.fresh_database("outbox_commit")
    await asyncio.to_thread(upgrade_to_head, "catalog", url)
    engine = create_async_engine(url)
    yield engine
    await engine.dispose()


def _unit(engine: AsyncEngine) -> Unit:
    return Unit(session_factory(engine), encode=lambda m: m, read_sessions=read_session_factory(engine), on_driver=True)


def _message(subject: str = "athenaeum.test.happened.v1", **changes: Any) -> OutboxMessage:
    fields: dict[str, Any] = {"event_type": "athenaeum.test.v1.Happened", "payload": b"\x08\x01", "occurred_at": AT}
    return OutboxMessage(event_id=uuid.uuid4(), subject=subject, **(fields | changes))


async def _stored(engine: AsyncEngine) -> list[Any]:
    async with engine.connect() as connection:
        return list((await connection.execute(sa.select(OUTBOX).order_by(OUTBOX.c.seq))).all())


_SOMETHING_FIRST = DriverStatement(sa.select(sa.literal(1)))


async def test_the_rows_come_back_as_recorded_whatever_they_hold(engine: AsyncEngine) -> None:
    hostile = _message(
        subject=f"athenaeum.test.{HOSTILE}",
        event_type=HOSTILE,
        payload=bytes(range(256)),
        occurred_at=datetime(2026, 12, 5, 12, 30, 15, 123456, tzinfo=timezone(timedelta(hours=5, minutes=30))),
        headers={HOSTILE: HOSTILE, "traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"},
    )
    plain = _message()
    sent: list[str] = []
    async with _unit(engine) as uow:
        await uow.run(_SOMETHING_FIRST, {})  # the transaction has begun: the rows go with its COMMIT
        connection = await uow.driver()
        connection.add_query_logger(log := lambda logged: sent.append(logged.query))
        uow.record(hostile, plain)
        await uow.commit()
        connection.remove_query_logger(log)
    await asyncio.sleep(0.01)  # the driver calls its loggers soon after, not at once
    assert len(sent) == 1 and sent[0].startswith("INSERT INTO outbox") and sent[0].endswith("; COMMIT")
    rows = await _stored(engine)
    assert [(r.event_id, r.subject, r.event_type, r.payload, r.occurred_at) for r in rows] == [
        (m.event_id, m.subject, m.event_type, m.payload, m.occurred_at) for m in (hostile, plain)
    ]
    assert rows[0].headers[HOSTILE] == HOSTILE and rows[0].headers["traceparent"].startswith("00-0af7")
    assert rows[1].published_at is None  # for the relay, as any row


async def test_rows_recorded_without_a_statement_before_them_commit_by_themselves(engine: AsyncEngine) -> None:
    message = _message()
    async with _unit(engine) as uow:
        uow.record(message)
        await uow.commit()
    assert [row.event_id for row in await _stored(engine)] == [message.event_id]


async def test_many_events_are_written_before_the_commit_in_their_order(engine: AsyncEngine) -> None:
    messages = [_message() for _ in range(OUTBOX_WITH_COMMIT * 2 + 1)]
    async with _unit(engine) as uow:
        await uow.run(_SOMETHING_FIRST, {})
        uow.record(*messages)
        await uow.commit()
    assert [row.event_id for row in await _stored(engine)] == [m.event_id for m in messages]


async def test_an_event_announced_again_is_dropped_not_an_error(engine: AsyncEngine) -> None:
    message = _message()
    for _ in range(2):
        async with _unit(engine) as uow:
            uow.record(message)
            await uow.commit()
    assert [row.event_id for row in await _stored(engine)] == [message.event_id]


async def test_a_row_the_database_refuses_undoes_the_whole_transaction(engine: AsyncEngine) -> None:
    """A NUL cannot be stored in text (nor by a parameter): the statement fails in the COMMIT's round trip,
    the COMMIT after it never runs, and what the transaction wrote before is undone."""
    earlier = _message()
    insert_earlier = DriverStatement(sa.insert(OUTBOX).values(
        event_id=sa.bindparam("event_id", type_=OUTBOX.c.event_id.type), subject="earlier", event_type="t",
        payload=b"", occurred_at=AT,
    ).returning(OUTBOX.c.seq))  # fmt: skip
    with pytest.raises(Exception, match="0x00"):
        async with _unit(engine) as uow:
            await uow.run(insert_earlier, {"event_id": earlier.event_id})
            uow.record(_message(subject="athenaeum.test.\x00"))
            await uow.commit()
    assert await _stored(engine) == []
    async with _unit(engine) as uow:  # and the pool's connection is clean for the next unit of work
        uow.record(earlier)
        await uow.commit()
    assert [row.event_id for row in await _stored(engine)] == [earlier.event_id]
