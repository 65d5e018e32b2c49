"""A single write that carries its request's record (`RequestLog.remember` called before the write), against a
real Postgres: the change, its events and the record commit in one statement or not at all; a change that
touched nothing records nothing; an id another attempt owns leaves the record alone and is answered
REQUEST_IN_PROGRESS; an id this attempt claimed is committed; a record kept after the write, or with no write
to carry it, is refused. In a transaction, `remember` still writes at once (its Conflict undoes the change)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterable
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from services.support.runtime.db import SqlAlchemyUnitOfWork
from services.support.runtime.engine import read_session_factory, session_factory
from services.support.runtime.errors import Conflict
from services.support.runtime.idempotency import IN_PROGRESS, REQUESTS, Attempt, RequestLog, current_attempt
from services.support.runtime.repository import TrackingRepository
from tests.integration.runtime.test_events_carried_by_a_single_write import THINGS, _message, _stored
from tests.integration.runtime.test_outbox_rows_on_the_driver import Recorder

pytestmark = pytest.mark.integration


class Things(TrackingRepository):
    async def rename(self, thing: uuid.UUID, *, version: int, name: str) -> None:
        """A versioned update built to carry (a single write's write)."""
        values = {"name": name}
        await self._update_versioned(
            THINGS, row_id=thing, version=version, values=values, name="things/1", carrying=True
        )


class Unit(SqlAlchemyUnitOfWork):
    def _open(self, session: AsyncSession) -> None:
        self.things = Things(session, driver=self.repository_driver)
        self.requests = RequestLog(session, driver=self.repository_driver)

    def _repositories(self) -> Iterable[TrackingRepository]:
        return (self.things,)

    def record(self) -> None:
        self.things.seen.append(Recorder([_message()]))


def _unit_with_requests(engine: AsyncEngine) -> Unit:
    return Unit(session_factory(engine), encode=lambda m: m, read_sessions=read_session_factory(engine), on_driver=True)


@pytest.fixture
async def thing(engine: AsyncEngine) -> uuid.UUID:
    thing = uuid.uuid4()
    async with engine.begin() as connection:
        await connection.execute(sa.text("CREATE TABLE things (id uuid PRIMARY KEY, version integer, name text)"))
        await connection.execute(sa.text("INSERT INTO things VALUES (:id, 1, 'old')"), {"id": thing})
    return thing


async def _records(engine: AsyncEngine) -> list[tuple[Any, ...]]:
    async with engine.connect() as connection:
        query = sa.select(REQUESTS.c.request_id, REQUESTS.c.operation, REQUESTS.c.resource, REQUESTS.c.state)
        return [tuple(row) for row in (await connection.execute(query.order_by(REQUESTS.c.created_at))).all()]


async def _name(engine: AsyncEngine) -> tuple[int, str]:
    async with engine.connect() as connection:
        version, name = (await connection.execute(sa.select(THINGS.c.version, THINGS.c.name))).one()
        return version, name


async def _rename(engine: AsyncEngine, thing: uuid.UUID, request_id: uuid.UUID, *, version: int, name: str) -> None:
    async with _unit_with_requests(engine).single_write() as uow:
        await uow.requests.remember(request_id, "Rename", "things/1")
        uow.record()
        await uow.things.rename(thing, version=version, name=name)
        await uow.commit()


async def test_the_change_its_events_and_its_request_record_commit_in_one_statement(
    engine: AsyncEngine, thing: uuid.UUID
) -> None:
    request_id = uuid.uuid4()
    async with _unit_with_requests(engine).single_write() as uow:
        await uow.requests.remember(request_id, "Rename", "things/1")
        assert await _records(engine) == []  # kept for the write, not written on its own
        uow.record()
        await uow.things.rename(thing, version=1, name="new")
        await uow.commit()
    assert await _records(engine) == [(request_id, "Rename", "things/1", "COMMITTED")]
    assert await _name(engine) == (2, "new")
    rows, _ = await _stored(engine)
    assert len(rows) == 1


async def test_a_change_that_touched_nothing_records_no_request(engine: AsyncEngine, thing: uuid.UUID) -> None:
    with pytest.raises(Conflict):
        async with _unit_with_requests(engine).single_write() as uow:
            await uow.requests.remember(uuid.uuid4(), "Rename", "things/1")
            await uow.things.rename(thing, version=7, name="new")  # read at a version it is not at
    assert await _records(engine) == [] and await _name(engine) == (1, "old")


async def test_an_id_another_attempt_owns_keeps_its_record_and_is_answered_in_progress(
    engine: AsyncEngine, thing: uuid.UUID
) -> None:
    """One statement cannot wait on the record: the change is made, the owner's claim is left as it was (the
    owner then finds the change made), and this attempt hears REQUEST_IN_PROGRESS."""
    request_id, owner = uuid.uuid4(), uuid.uuid4()
    async with engine.begin() as connection:
        claim = {"request_id": request_id, "operation": "Rename", "resource": "", "state": IN_PROGRESS}
        await connection.execute(REQUESTS.insert().values({**claim, "owner": owner}))
    with pytest.raises(Conflict) as taken:
        async with _unit_with_requests(engine).single_write() as uow:
            await uow.requests.remember(request_id, "Rename", "things/1")
            await uow.things.rename(thing, version=1, name="new")
    assert taken.value.reason == "REQUEST_IN_PROGRESS"
    assert await _records(engine) == [(request_id, "Rename", "", IN_PROGRESS)]


async def test_the_attempt_that_claimed_the_id_commits_it(engine: AsyncEngine, thing: uuid.UUID) -> None:
    request_id, owner = uuid.uuid4(), uuid.uuid4()
    async with engine.begin() as connection:
        claim = {"request_id": request_id, "operation": "Rename", "resource": "", "state": IN_PROGRESS}
        await connection.execute(REQUESTS.insert().values({**claim, "owner": owner}))
    token = current_attempt.set(Attempt(request_id, "Rename", owner))
    try:
        async with _unit_with_requests(engine).single_write() as uow:
            await uow.requests.remember(request_id, "Rename", "things/1")
            await uow.things.rename(thing, version=1, name="new")
            await uow.commit()
    finally:
        current_attempt.reset(token)
    assert await _records(engine) == [(request_id, "Rename", "things/1", "COMMITTED")]


async def test_a_record_kept_after_the_write_or_with_no_write_to_carry_it_is_refused(
    engine: AsyncEngine, thing: uuid.UUID
) -> None:
    with pytest.raises(RuntimeError, match="before its write"):
        async with _unit_with_requests(engine).single_write() as uow:
            await uow.things.rename(thing, version=1, name="new")
            await uow.requests.remember(uuid.uuid4(), "Rename", "things/1")
    with pytest.raises(RuntimeError, match="lacks"):
        async with _unit_with_requests(engine).single_write() as uow:
            await uow.requests.remember(uuid.uuid4(), "Rename", "things/1")
            await uow.commit()
    assert await _records(engine) == []


async def test_in_a_transaction_the_record_is_written_at_once_and_its_conflict_undoes_the_change(
    engine: AsyncEngine, thing: uuid.UUID
) -> None:
    request_id = uuid.uuid4()
    async with _unit_with_requests(engine) as uow:
        await uow.requests.remember(request_id, "Rename", "things/1")
        own_view = await (await uow.driver()).fetchval("SELECT count(*) FROM idempotent_requests")
        assert own_view == 1
        await uow.things.rename(thing, version=1, name="new")
        await uow.commit()
    with pytest.raises(Conflict):
        async with _unit_with_requests(engine) as uow:
            await uow.things.rename(thing, version=2, name="newer")
            await uow.requests.remember(request_id, "Rename", "things/1")  # committed already: taken
            await uow.commit()
    assert await _name(engine) == (2, "new")


async def test_twins_of_one_request_change_once(engine: AsyncEngine, thing: uuid.UUID) -> None:
    """Without the runtime's claim, two single writes of one request at once: one changes and records, the other
    loses at the version check and writes nothing."""
    request_id = uuid.uuid4()
    outcomes = await asyncio.gather(
        *(_rename(engine, thing, request_id, version=1, name=f"twin {n}") for n in range(2)), return_exceptions=True
    )
    assert sorted(type(outcome).__name__ for outcome in outcomes) == ["Conflict", "NoneType"]
    assert await _name(engine) == (2, "twin 0") or await _name(engine) == (2, "twin 1")
    assert [record[0] for record in await _records(engine)] == [request_id]
