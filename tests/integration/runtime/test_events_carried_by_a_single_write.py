"""A write that carries its events (`carrying_events`), against a real Postgres. In a single-write block the
change and the outbox rows commit in one statement, byte for byte whatever the values hold, in order; a change
that touched no row writes no row; a row the database refuses undoes the change; an event recorded after the
write, or a second write, is refused; the relay is woken once the statement committed. In a transaction on the
driver a change (and every versioned update) carries the events recorded before it, the commit the rest, and
the transaction decides for all of them."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as upsert
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from services.support.runtime.carrying import carrying_events
from services.support.runtime.db import SqlAlchemyUnitOfWork
from services.support.runtime.engine import read_session_factory, session_factory
from services.support.runtime.errors import Conflict
from services.support.runtime.idempotency import REQUESTS
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


THINGS = sa.Table(
    "things", sa.MetaData(), sa.Column("id", sa.Uuid), sa.Column("version", sa.Integer), sa.Column("name", sa.Text)
)


class Ledger(TrackingRepository):
    async def remember_once(self, request_id: uuid.UUID) -> int:
        return await self._change_carrying_events(_REMEMBER_ONCE, {"rid": request_id})

    async def rename(self, thing: uuid.UUID, *, version: int, name: str) -> None:
        await self._update_versioned(THINGS, row_id=thing, version=version, values={"name": name}, name="things/1")


class Unit(SqlAlchemyUnitOfWork):
    def _open(self, session: AsyncSession) -> None:
        self.ledger = Ledger(session, driver=self.repository_driver)

    def _repositories(self) -> Iterable[TrackingRepository]:
        return (self.ledger,)

    def record(self, *messages: OutboxMessage) -> None:
        self.ledger.seen.append(Recorder(list(messages)))


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


async def test_in_a_transaction_a_change_carries_the_events_so_far_and_the_commit_the_rest(engine: AsyncEngine) -> None:
    """On the driver's transaction: the change takes the events recorded before it, the commit writes those
    recorded after, in the order they were recorded; none is seen before the commit."""
    before, after = _message(), _message()
    woken: list[int] = []
    async with _unit(engine, woken) as uow:
        uow.record(before)
        await uow.ledger.remember_once(uuid.uuid4())
        uow.record(after)
        own_view = await (await uow.driver()).fetchval("SELECT array_agg(event_id) FROM outbox")
        assert own_view == [before.event_id]  # written by the change itself, in the transaction
        assert await _stored(engine) == ([], 0)  # nothing committed yet
        await uow.commit()
    rows, changes = await _stored(engine)
    assert changes == 1 and [r.event_id for r in rows] == [before.event_id, after.event_id] and woken == [1]


async def test_a_versioned_update_in_a_transaction_carries_its_events_and_a_lost_race_writes_none(
    engine: AsyncEngine,
) -> None:
    thing = uuid.uuid4()
    async with engine.begin() as connection:
        await connection.execute(sa.text("CREATE TABLE things (id uuid PRIMARY KEY, version integer, name text)"))
        await connection.execute(sa.text("INSERT INTO things VALUES (:id, 1, 'old')"), {"id": thing})
    won, lost = _message(), _message()
    woken: list[int] = []
    async with _unit(engine, woken) as uow:
        uow.record(won)
        await uow.ledger.rename(thing, version=1, name="new")
        await uow.commit()
    assert woken == [1]  # every event went with the change: the relay is still woken
    with pytest.raises(Conflict):
        async with _unit(engine) as uow:
            uow.record(lost)
            await uow.ledger.rename(thing, version=1, name="newer")  # read at version 1, now 2: lost
            await uow.commit()
    rows, _ = await _stored(engine)
    assert [r.event_id for r in rows] == [won.event_id]
    async with engine.connect() as connection:
        assert (await connection.execute(sa.text("SELECT version, name FROM things"))).one() == (2, "new")


async def test_a_transaction_that_ends_without_its_commit_leaves_neither_the_change_nor_its_events(
    engine: AsyncEngine,
) -> None:
    with pytest.raises(LookupError):
        async with _unit(engine) as uow:
            uow.record(_message())
            await uow.ledger.remember_once(uuid.uuid4())
            raise LookupError("the use case fails after its change")
    assert await _stored(engine) == ([], 0)
