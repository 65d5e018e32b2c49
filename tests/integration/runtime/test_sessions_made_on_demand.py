"""A read-only or single-write block's session is made only when a statement with no driver form asks for it,
against a real Postgres: a block of DriverStatements alone (most of a loan cycle's) makes none; one that needs
the session gets it, reads what the driver reads, and gives its connection back when the block ends; a
single write still commits by itself."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from services.support.runtime.db import SqlAlchemyUnitOfWork
from services.support.runtime.driver import DriverStatement
from services.support.runtime.engine import read_session_factory, session_factory
from services.support.runtime.idempotency import REQUESTS
from services.support.runtime.repository import TrackingRepository

pytestmark = pytest.mark.integration

_COUNT = (
    sa.select(sa.func.count().label("n")).select_from(REQUESTS).where(REQUESTS.c.operation == sa.bindparam("operation"))
)
_COUNT_ON_DRIVER = DriverStatement(_COUNT, read=True)
_REMEMBER = DriverStatement(
    sa.insert(REQUESTS).values(
        request_id=sa.bindparam("rid", type_=REQUESTS.c.request_id.type), operation=sa.bindparam("operation"),
        resource="r",
    )
)  # fmt: skip


class Ledger(TrackingRepository):
    async def count_on_driver(self, operation: str) -> int:
        row = await self._first(_COUNT_ON_DRIVER, {"operation": operation})
        return int(row["n"]) if row is not None else 0

    async def count_on_session(self, operation: str) -> int:
        return int(await self.session.scalar(_COUNT, {"operation": operation}) or 0)

    async def remember(self, operation: str) -> None:
        await self._execute(_REMEMBER, {"rid": uuid.uuid4(), "operation": operation})


class Unit(SqlAlchemyUnitOfWork):
    def _open(self, session: AsyncSession) -> None:
        self.ledger = Ledger(session, driver=self.repository_driver)

    def _repositories(self) -> Iterable[TrackingRepository]:
        return (self.ledger,)


class Counted:
    """A session factory that counts the sessions it makes."""

    def __init__(self, factory: Any) -> None:
        self.factory, self.kw, self.made = factory, factory.kw, 0

    def __call__(self) -> Any:
        self.made += 1
        return self.factory()


def _unit(engine: AsyncEngine) -> tuple[Unit, Counted]:
    reads = Counted(read_session_factory(engine))
    unit = Unit(session_factory(engine), encode=lambda m: m, read_sessions=reads, on_driver=True)  # type: ignore[arg-type]
    return unit, reads


async def test_blocks_of_driver_statements_alone_make_no_session(engine: AsyncEngine) -> None:
    operation = f"Test-{uuid.uuid4()}"
    uow, reads = _unit(engine)
    async with uow.single_write():
        assert await uow.ledger.count_on_driver(operation) == 0
        await uow.ledger.remember(operation)
        await uow.commit()
    async with uow.reading():
        assert await uow.ledger.count_on_driver(operation) == 1  # committed by itself
    assert reads.made == 0


async def test_a_statement_without_a_driver_form_gets_its_session_and_gives_its_connection_back(
    engine: AsyncEngine,
) -> None:
    operation = f"Test-{uuid.uuid4()}"
    uow, reads = _unit(engine)
    async with uow.single_write():
        await uow.ledger.remember(operation)
        await uow.commit()
    before = engine.pool.checkedout()  # type: ignore[attr-defined]
    for block in (uow.reading, uow.single_write):
        async with block():
            assert await uow.ledger.count_on_session(operation) == await uow.ledger.count_on_driver(operation) == 1
    assert reads.made == 2 and engine.pool.checkedout() == before  # type: ignore[attr-defined]
