"""A unit of work on the driver's own transaction writes its events' outbox rows as a session would: against a
real Postgres, what comes back is what was recorded, byte for byte, whatever the values hold (quotes, SQL,
every byte, any offset); many events keep their order; an event announced again is dropped; and a row the
database refuses undoes the whole transaction, leaving the pool's connection clean."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from services.support.runtime.db import SqlAlchemyUnitOfWork
from services.support.runtime.driver import DriverStatement
from services.support.runtime.engine import read_session_factory, session_factory
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
    async with _unit(engine) as uow:
        await uow.run(_SOMETHING_FIRST, {})
        uow.record(hostile, plain)
        await uow.commit()
    rows = await _stored(engine)
    assert [(r.event_id, r.subject, r.event_type, r.payload, r.occurred_at) for r in rows] == [
        (m.event_id, m.subject, m.event_type, m.payload, m.occurred_at) for m in (hostile, plain)
    ]
    assert rows[0].headers[HOSTILE] == HOSTILE and rows[0].headers["traceparent"].startswith("00-0af7")
    assert rows[1].published_at is None  # for the relay, as any row


async def test_rows_recorded_without_a_statement_before_them_are_committed(engine: AsyncEngine) -> None:
    message = _message()
    async with _unit(engine) as uow:
        uow.record(message)
        await uow.commit()
    assert [row.event_id for row in await _stored(engine)] == [message.event_id]


async def test_many_events_keep_their_order(engine: AsyncEngine) -> None:
    messages = [_message() for _ in range(40)]
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
    """A NUL cannot be stored in text: the outbox row fails at the commit, and what the transaction wrote
    before it is undone."""
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
