"""The log in Postgres. Events go in with COPY straight into the partitioned table; only a batch that
holds an event already stored (a redelivery, a client's retry) takes the slower way through a staging
table and INSERT … ON CONFLICT DO NOTHING. Measured: the direct COPY costs Postgres about half the CPU of
staging every batch (bench/README.md)."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

import asyncpg
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import TEXT, array
from sqlalchemy.ext.asyncio import AsyncSession

from services.events.app.ports import Cursor
from services.events.data.copy_rows import ACCEPTED_COLUMNS, AcceptedRows
from services.events.data.filters import aggregate_statement, conditions
from services.events.data.metrics import COPY_BATCH_SIZE, COPY_SECONDS
from services.events.data.tables import COLUMNS, events
from services.events.data.values import attributes_json
from services.events.domain.aggregation import Aggregation, Count, day_start
from services.events.domain.anonymizing import ACCOUNT_TYPES, ANONYMOUS_PATRON, KEPT_TYPES, MESH_TYPES
from services.events.domain.model import AcceptedBatch, Category, EventRecord, uuid7_millis
from services.events.domain.query import EventQuery
from services.support.runtime.errors import NotFound
from services.support.runtime.repository import TrackingRepository

STAGING = "events_staging"
_STAGING_DDL = f"CREATE TEMP TABLE IF NOT EXISTS {STAGING} (LIKE events INCLUDING DEFAULTS) ON COMMIT DELETE ROWS"
_FROM_STAGING = f"INSERT INTO events SELECT * FROM {STAGING} ON CONFLICT DO NOTHING"


def row(record: EventRecord) -> tuple[Any, ...]:
    """A record in COLUMNS order, for COPY."""
    return (
        record.occur_time,
        record.id,
        int(record.category),
        record.record_time,
        record.type,
        record.actor,
        record.subject,
        record.source,
        record.trace_id,
        attributes_json(record.attributes),
        list(record.resources),
    )


def record_of(found: Any) -> EventRecord:
    return EventRecord(
        id=found.id,
        type=found.type,
        category=Category(found.category),
        occur_time=found.occur_time,
        record_time=found.record_time,
        actor=found.actor,
        subject=found.subject,
        source=found.source,
        trace_id=found.trace_id,
        attributes=found.attributes,
        resources=tuple(found.resources),
    )


class SqlEventRepository(TrackingRepository):
    def __init__(self, session: AsyncSession) -> None:
        super().__init__(session)
        self.added = 0
        """Events handed to the database in this unit of work (counted as stored once it commits)."""

    async def add(self, records: Sequence[EventRecord]) -> None:
        if not records:
            return
        rows = [row(record) for record in records]
        await self._copy(lambda driver, table: driver.copy_records_to_table(table, records=rows, columns=COLUMNS))
        self._added(len(rows))

    async def add_accepted(self, batches: Sequence[AcceptedBatch]) -> list[int]:
        if not batches:
            return []
        rows = AcceptedRows(batches)
        await self._copy(
            lambda driver, table: driver.copy_to_table(
                table, source=rows.each(), columns=ACCEPTED_COLUMNS, format="binary"
            ),
        )
        self._added(rows.count)
        return rows.unreadable

    async def _copy(self, send: Callable[[asyncpg.Connection, str], Awaitable[object]]) -> None:
        """COPY rows with `send` (to a table it is given); an event already stored sends them again to the
        staging table, and from there only those that are not."""
        with COPY_SECONDS.time():
            driver = await self._driver()
            try:
                async with driver.transaction():  # a savepoint: a conflict undoes only this COPY
                    await send(driver, "events")
            except asyncpg.UniqueViolationError:
                await driver.execute(_STAGING_DDL)
                await send(driver, STAGING)
                await driver.execute(_FROM_STAGING)

    def _added(self, count: int) -> None:
        COPY_BATCH_SIZE.observe(count)
        self.added += count

    async def _driver(self) -> asyncpg.Connection:
        """The asyncpg connection of this unit of work's transaction (COPY is asyncpg's, not SQLAlchemy's)."""
        connection = await self.session.connection()
        # SQLAlchemy opens the transaction on the first statement: this one bounds the store's time too.
        await connection.exec_driver_sql("SET LOCAL statement_timeout = '60s'")
        raw = await connection.get_raw_connection()
        return raw.driver_connection

    async def get(self, event_id: uuid.UUID) -> EventRecord:
        # AUDIT first; of two under one name (a peer's, a record from before names were minted), the first
        # stored: a later record cannot take a genuine one's place.
        order = (events.c.category.desc(), events.c.record_time, events.c.occur_time)
        statement = sa.select(events).where(events.c.id == event_id).order_by(*order).limit(1)
        millis = uuid7_millis(event_id)
        if millis is not None:  # a name we minted carries its occur_time: one look at the primary key
            moment = events.c.occur_time
            start = sa.func.to_timestamp(millis / 1000.0)
            hinted = statement.where(moment >= start, moment < start + timedelta(milliseconds=1))
            found = (await self.session.execute(hinted)).first()
            if found is not None:
                return record_of(found)
        found = (await self.session.execute(statement)).first()
        if found is None:
            raise NotFound(f"events/{event_id}")
        return record_of(found)

    async def list(self, query: EventQuery, *, limit: int, after: Cursor | None) -> Sequence[EventRecord]:
        key = sa.tuple_(events.c.occur_time, events.c.id, events.c.category)
        statement = sa.select(events).where(*conditions(query))
        if after is not None:
            statement = statement.where(key < sa.tuple_(after.occur_time, after.id, after.category))
        statement = statement.order_by(events.c.occur_time.desc(), events.c.id.desc(), events.c.category.desc())
        result = await self.session.execute(statement.limit(limit))
        return [record_of(found) for found in result]

    async def aggregate(self, aggregation: Aggregation) -> Sequence[Count]:
        result = await self.session.execute(aggregate_statement(aggregation))
        zone = aggregation.day_zone
        return [
            Count(found.bucket if zone is None else day_start(found.bucket.date(), zone), found.key or "", found.count)
            for found in result
        ]

    async def anonymize(self, patron: str, *, before: datetime | None) -> int:
        # As domain/anonymizing.py's `is_readers` and `anonymized`.
        statement = _ANONYMIZE if before is None else _ANONYMIZE.where(events.c.occur_time < before)
        result = await self.session.execute(statement, {"patron": patron, "anonymous": ANONYMOUS_PATRON})
        return int(result.rowcount)  # type: ignore[attr-defined]

    async def account_roles(self, account: str) -> set[str]:
        role = events.c.attributes["user.role"].astext
        statement = (
            sa.select(role)
            .distinct()
            .where(
                events.c.category == int(Category.AUDIT),
                events.c.subject == account,  # the AUDIT partitions' index on subject
                events.c.type.in_(ACCOUNT_TYPES),
                role.is_not(None),
            )
        )
        return set((await self.session.execute(statement)).scalars())


_PATRON_PARAM, _ANONYMOUS_PARAM = sa.cast(sa.bindparam("patron"), TEXT), sa.cast(sa.bindparam("anonymous"), TEXT)
_SWAPPED_ATTRIBUTES = sa.text(
    "(SELECT COALESCE(jsonb_object_agg(key, CASE WHEN value = to_jsonb(CAST(:patron AS text)) "
    "THEN to_jsonb(CAST(:anonymous AS text)) ELSE value END), '{}'::jsonb) FROM jsonb_each(events.attributes))"
)
_ANONYMIZE = (
    sa.update(events)
    .where(
        events.c.category == int(Category.AUDIT),
        events.c.type.startswith(MESH_TYPES, autoescape=True),
        *(sa.not_(events.c.type.startswith(prefix, autoescape=True)) for prefix in KEPT_TYPES),
        # The GIN index on resources and the btree on actor (a BitmapOr) find the rows.
        sa.or_(events.c.resources.contains(array([_PATRON_PARAM])), events.c.actor == _PATRON_PARAM),
    )
    .values(
        actor=sa.case((events.c.actor == _PATRON_PARAM, _ANONYMOUS_PARAM), else_=events.c.actor),
        subject=sa.case((events.c.subject == _PATRON_PARAM, _ANONYMOUS_PARAM), else_=events.c.subject),
        attributes=_SWAPPED_ATTRIBUTES,
        resources=sa.func.array_replace(events.c.resources, _PATRON_PARAM, _ANONYMOUS_PARAM),
    )
)
"""The reader's reading-history records, the reader replaced by ANONYMOUS_PATRON in each column."""
