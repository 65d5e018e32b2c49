"""A single-write block whose write carries its events (`carrying_events`), against a real Postgres: the change
and the outbox rows commit in one statement, byte for byte whatever the values hold, in order; a change that
touched no row writes no row; a row the database refuses undoes the change; an event recorded after the write,
or a second write, is refused; the relay is woken once the statement committed. Outside a single-write block
the same statement carries nothing, and the commit writes the events as always."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as upsert
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine

from services.support.runtime.carrying import carrying_events
from services.support.runtime.db import SqlAlchemyUnitOfWork, read_session_factory, session_factory
from services.support.runtime.idempotency import REQUESTS
from services.support.runtime.migrations import upgrade_to_head
from services.support.runtime.outbox import OUTBOX, OutboxMessage
from services.support.runtime.repository import TrackingRepository
from tests.integration.runtime.test_outbox_rows_on_the_driver import HOSTILE, Recorder

pytestmark = pytest.mark.integration
AT = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)

# The change: a row of the request ledger (a table every service has), new only once: a second time it
# touches nothing.
_REMEMBER_ONCE = carrying_events(
    upsert(REQUESTS)
    .values(request_id=sa.bindparam("rid", type_=REQUESTS.c.request_id.type), operation="Test", resource="r")
    .on_conflict_do_nothing(index_elements=["request_id"])
    .returning(REQUESTS.c.request_id)
)


class Ledger(TrackingRepository):
    async def remember_once(self, request_id: uuid.UUID) -> int:
        return await self._change_carrying_events(_REMEMBER_ONCE, {"rid": request_id})


class Unit(SqlAlchemyUnitOfWork):
    def _open(self, session: AsyncSession) -> None:
        self.ledger = Ledger(session, driver=self.repository_driver)

    def _repositories(self) -> Iterable[TrackingRepository]:
        return (self.ledger,)

    def record(self, *messages: OutboxMessage) -> None:
        self.ledger.seen.append(Recorder(list(messages)))


@pytest.fixture
async def engine(postgres) -> AsyncIterator[AsyncEngine]:
    url = postgres.fresh_database("carried_events")
    await asyncio.to_thread(upgrade_to_head, "catalog", url)
    engine = create_async_engine(url)
    yield engine
    await engine.dispose()


def _unit(engine: AsyncEngine, woken: list[int] | None = None) -> Unit:
    on_commit = (lambda: woken.append(1)) if woken is not None else (lambda: None)
    return Unit(
        session_factory(engine),
        encode=lambda m: m,
        on_commit=on_commit,
        read_sessions=read_session_factory(engine),
        on_driver=True,
    )


def _message(**changes: Any) -> OutboxMessage:
    fields: dict[str, Any] = {"subject": "athenaeum.test.happened.v1", "event_type": "athenaeum.test.v1.Happened"}
    fields |= {"payload": b"\x08\x01", "occurred_at": AT}
    return OutboxMessage(event_id=uuid.uuid4(), **(fields | changes))


async def _stored(engine: AsyncEngine) -> tuple[list[Any], int]:
    async with engine.connect() as connection:
        rows = list((await connection.execute(sa.select(OUTBOX).order_by(OUTBOX.c.seq))).all())
        return rows, int(await connection.scalar(sa.select(sa.func.count()).select_from(REQUESTS)) or 0)


async def test_the_change_and_its_events_commit_in_one_statement_as_recorded(engine: AsyncEngine) -> None:
    hostile = _message(
        subject=f"athenaeum.test.{HOSTILE}",
        event_type=HOSTILE,
        payload=bytes(range(256)),
        occurred_at=datetime(2026, 12, 5, 12, 30, 15, 123456, tzinfo=timezone(timedelta(hours=5, minutes=30))),
        headers={HOSTILE: HOSTILE},
    )
    many = [_message() for _ in range(30)]
    woken: list[int] = []
    async with _unit(engine, woken).single_write() as uow:
        uow.record(hostile, *many)
        assert await uow.ledger.remember_once(uuid.uuid4()) == 1
        await uow.commit()
    rows, changes = await _stored(engine)
    assert changes == 1 and woken == [1]
    assert [(r.event_id, r.subject, r.event_type, r.payload, r.occurred_at) for r in rows] == [
        (m.event_id, m.subject, m.event_type, m.payload, m.occurred_at) for m in (hostile, *many)
    ]
    assert rows[0].headers[HOSTILE] == HOSTILE and all(r.published_at is None for r in rows)


async def test_a_change_that_touched_no_row_writes_no_event(engine: AsyncEngine) -> None:
    request_id = uuid.uuid4()
    first, again = _message(), _message()
    for message in (first, again):
        async with _unit(engine).single_write() as uow:
            uow.record(message)
            await uow.ledger.remember_once(request_id)
            await uow.commit()
    rows, changes = await _stored(engine)
    assert changes == 1 and [r.event_id for r in rows] == [first.event_id]


async def test_an_event_already_in_the_outbox_is_dropped_with_the_change_kept(engine: AsyncEngine) -> None:
    message = _message()
    for _ in range(2):
        async with _unit(engine).single_write() as uow:
            uow.record(message)
            await uow.ledger.remember_once(uuid.uuid4())
            await uow.commit()
    rows, changes = await _stored(engine)
    assert changes == 2 and [r.event_id for r in rows] == [message.event_id]


async def test_a_row_the_database_refuses_undoes_the_change(engine: AsyncEngine) -> None:
    with pytest.raises(Exception, match="0x00"):  # a NUL cannot be stored in text
        async with _unit(engine).single_write() as uow:
            uow.record(_message(), _message(subject="athenaeum.test.\x00"))
            await uow.ledger.remember_once(uuid.uuid4())
    assert await _stored(engine) == ([], 0)


async def test_an_event_after_the_write_or_a_second_write_is_refused(engine: AsyncEngine) -> None:
    with pytest.raises(RuntimeError, match="records no event"):
        async with _unit(engine).single_write() as uow:
            await uow.ledger.remember_once(uuid.uuid4())
            uow.record(_message())  # its row would be a second write, after the commit of the first
            await uow.commit()
    with pytest.raises(RuntimeError, match="writes once"):
        async with _unit(engine).single_write() as uow:
            await uow.ledger.remember_once(uuid.uuid4())
            await uow.ledger.remember_once(uuid.uuid4())
    _, changes = await _stored(engine)
    assert changes == 2  # each block's first write committed by itself; nothing after it ran


async def test_in_a_transaction_the_statement_carries_nothing_and_the_commit_writes_the_events(
    engine: AsyncEngine,
) -> None:
    message = _message()
    async with _unit(engine) as uow:
        uow.record(message)
        await uow.ledger.remember_once(uuid.uuid4())
        rows, _ = await _stored(engine)
        assert rows == []  # nothing carried, nothing committed yet
        await uow.commit()
    rows, changes = await _stored(engine)
    assert changes == 1 and [r.event_id for r in rows] == [message.event_id]
