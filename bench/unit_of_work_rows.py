"""The synthetic tables of bench/units_of_work.py, the statements of its units of work (built once, as the
services build theirs), and the repository and unit of work that run them as the services' do."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from services.support.runtime.db import SqlAlchemyUnitOfWork
from services.support.runtime.driver import DriverStatement
from services.support.runtime.outbox import OutboxMessage
from services.support.runtime.repository import TrackingRepository, _versioned_update

ROWS = sa.table("rows", sa.column("id", sa.Uuid), sa.column("version", sa.Integer))
LOCK = sa.select(sa.func.pg_advisory_xact_lock(sa.func.hashtextextended(sa.bindparam("key", type_=sa.Text), 0)))
READ = sa.select(ROWS.c.id, ROWS.c.version).where(ROWS.c.id == sa.bindparam("row_id"))
UPDATE = ROWS.update().where(ROWS.c.id == sa.bindparam("row_id")).values(version=ROWS.c.version + 1)
RAW_LOCK = "SELECT pg_advisory_xact_lock(hashtextextended($1::text, 0))"
RAW_READ = "SELECT id, version FROM rows WHERE id = $1"
RAW_UPDATE = "UPDATE rows SET version = version + 1 WHERE id = $1"
RECORDS = sa.table("records", sa.column("id", sa.Uuid))
COUNT = sa.select(sa.func.count()).select_from(ROWS).where(ROWS.c.id == sa.bindparam("row_id"))
LENT = sa.table("lent", sa.column("id", sa.Uuid), sa.column("book", sa.Integer), sa.column("version", sa.Integer))
QUEUE = sa.table("queue", sa.column("id", sa.Uuid), sa.column("book", sa.Integer), sa.column("seq", sa.BigInteger),
                 sa.column("status", sa.Text))  # fmt: skip


def _queue_head(book: sa.ColumnElement[int]) -> sa.Select[tuple[uuid.UUID]]:
    return sa.select(QUEUE.c.id).where(QUEUE.c.book == book, QUEUE.c.status == "WAITING").order_by(QUEUE.c.seq).limit(1)


LENT_BY_ID = sa.select(LENT).where(LENT.c.id == sa.bindparam("row_id"))
LENT_T = sa.Table(
    "lent", sa.MetaData(), sa.Column("id", sa.Uuid), sa.Column("book", sa.Integer), sa.Column("version", sa.Integer)
)
NOW = datetime(2026, 12, 5, tzinfo=UTC)
QUEUE_DDL = (
    "CREATE TABLE lent (id uuid PRIMARY KEY, book integer NOT NULL, version integer NOT NULL)",
    "CREATE TABLE queue (id uuid PRIMARY KEY, book integer NOT NULL, seq bigserial, status text NOT NULL)",
    "CREATE INDEX queue_book ON queue (book, seq) WHERE status = 'WAITING'",
    # 50 books' queues of ~100 holds, a third of them READY (not in the queue any more)
    "INSERT INTO queue (id, book, status) SELECT gen_random_uuid(), n % 50, CASE WHEN n % 3 = 0 THEN 'READY'"
    " ELSE 'WAITING' END FROM generate_series(1, 5000) AS n",
)


class Rows(TrackingRepository):
    """The step's statements as the services' repositories run them (DriverStatements)."""

    LOCK, READ, UPDATE = DriverStatement(LOCK), DriverStatement(READ), DriverStatement(UPDATE)
    COUNT = DriverStatement(COUNT, read=True)
    INSERT = DriverStatement(RECORDS.insert().values(id=sa.bindparam("record", type_=sa.Uuid)))
    LENT_READ = DriverStatement(LENT_BY_ID, read=True)
    HEAD = DriverStatement(_queue_head(sa.bindparam("book", type_=sa.Integer)), read=True)
    LENT_AND_HEAD = DriverStatement(
        sa.select(LENT, _queue_head(LENT.c.book).scalar_subquery().label("head")).where(
            LENT.c.id == sa.bindparam("row_id")
        ),
        read=True,
    )

    async def step(self, values: dict[str, object]) -> None:
        await self._first(self.LOCK, values)
        await self._first(self.READ, values)
        await self._execute(self.UPDATE, values)

    async def record(self, values: dict[str, object]) -> None:
        """The PENDING record's shape: a count that decides, then one INSERT."""
        await self._first(self.COUNT, values)
        await self._execute(self.INSERT, {"record": uuid.uuid4()})

    async def lent_then_head(self, values: dict[str, object]) -> object:
        lent = await self._first(self.LENT_READ, values)
        assert lent is not None
        return await self._first(self.HEAD, {"book": lent["book"]})

    async def lent_and_head(self, values: dict[str, object]) -> object:
        return await self._first(self.LENT_AND_HEAD, values)

    async def step_with_event(self, values: dict[str, object], *, carried: bool) -> None:
        """The row read and its versioned UPDATE, with one event recorded: its outbox row written by the
        UPDATE (`carried`), or by the commit, in a round trip of its own."""
        row = await self._first(self.LENT_READ, values)
        assert row is not None
        self.seen.append(_Recorded([_event()]))
        changes = {"row_id": row["id"], "version": row["version"] + 1, "seen_version": row["version"]}
        if carried:
            await self._update_versioned(LENT_T, row_id=row["id"], version=row["version"], values={}, name="lent")
        else:
            await self._execute(_versioned_update(LENT_T, (), carrying=False), changes)


@dataclass
class _Recorded:
    events: list[Any]


def _event() -> OutboxMessage:
    return OutboxMessage(uuid.uuid4(), "athenaeum.bench.stepped.v1", "athenaeum.bench.v1.Stepped", b"\x08\x01", NOW)


class RowsUnitOfWork(SqlAlchemyUnitOfWork):
    rows: Rows

    def _open(self, session: object) -> None:
        self.rows = Rows(session, driver=self.repository_driver)  # type: ignore[arg-type]

    def _repositories(self) -> tuple[TrackingRepository, ...]:
        return (self.rows,)
