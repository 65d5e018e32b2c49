"""The log in Postgres. Events go in with COPY straight into the partitioned table; only a batch that
holds an event already stored (a redelivery, a client's retry) takes the slower way through a staging
table and INSERT … ON CONFLICT DO NOTHING. Measured: the direct COPY costs Postgres about half the CPU of
staging every batch (bench/README.md)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Sequence
from datetime import timedelta
from itertools import repeat
from operator import attrgetter
from typing import Any

import asyncpg
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from services.events.app.ports import Cursor
from services.events.data.filters import aggregate_statement, conditions
from services.events.data.metrics import COPY_BATCH_SIZE, COPY_SECONDS
from services.events.data.tables import COLUMNS, events
from services.events.domain.aggregation import Aggregation, Count
from services.events.domain.model import (
    CATEGORY_OF,
    EPOCH,
    AcceptedBatch,
    Category,
    EventRecord,
    mint_id,
    uuid7_millis,
)
from services.events.domain.query import EventQuery
from services.events.domain.rules import EVENT_NAME
from services.support.runtime.db import TrackingRepository
from services.support.runtime.errors import NotFound

STAGING = "events_staging"
_STAGING_DDL = f"CREATE TEMP TABLE IF NOT EXISTS {STAGING} (LIKE events INCLUDING DEFAULTS) ON COMMIT DELETE ROWS"
_FROM_STAGING = f"INSERT INTO events SELECT * FROM {STAGING} ON CONFLICT DO NOTHING"
_EMPTY = "{}"


def _compact_json_encoder() -> Callable[[dict[str, str]], str]:
    """Attributes as compact JSON. The C encoder made once: `JSONEncoder.encode` makes one per call, which
    cost the store three quarters of its JSON time (3.8 -> 1.1 us an event, bench/README.md)."""
    separators = (":", ",")
    make = getattr(json.encoder, "c_make_encoder", None)  # not in the stubs
    if make is None:  # an interpreter without the C accelerator
        return json.JSONEncoder(ensure_ascii=False, separators=separators[::-1]).encode
    chunks = make(None, None, json.encoder.encode_basestring, None, *separators, False, False, True)
    return lambda attributes: "".join(chunks(attributes, 0))


_json = _compact_json_encoder()


def row(record: EventRecord) -> tuple[Any, ...]:
    """A record in COLUMNS order, for COPY."""
    attributes = record.attributes
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
        _json({key: attributes[key] for key in attributes}) if attributes else _EMPTY,  # faster than dict()
        list(record.resources),
    )


ACCEPTED_COLUMNS = tuple(name for name in COLUMNS if name != "resources")
"""Accepted events hold no resources (the column's default, an empty list)."""
_CATEGORY_NUMBER = {number: int(category) for number, category in CATEGORY_OF.items()}


_OCCUR_TIME, _NAME, _CATEGORY, _TYPE = (attrgetter(name) for name in ("occur_time", "name", "category", "type"))
_ACTOR, _SUBJECT, _SOURCE, _TRACE_ID = (attrgetter(name) for name in ("actor", "subject", "source", "trace_id"))
_ATTRIBUTES, _SECONDS, _NANOS = attrgetter("attributes"), attrgetter("seconds"), attrgetter("nanos")


def accepted_rows(batch: AcceptedBatch) -> list[tuple[Any, ...]]:
    """The rows `row` makes of `batch.records()` (in ACCEPTED_COLUMNS: without resources, which a client
    cannot send), straight from the wire message, column by column (most loops in C): no record per event,
    the id as text (asyncpg reads it), one datetime per distinct occur_time. ValueError, KeyError: a name or
    a category the rules would have refused (nothing of the batch is stored)."""
    events = list(batch.events)
    stamps = list(map(_OCCUR_TIME, events))
    moments = list(zip(map(_SECONDS, stamps), map(_NANOS, stamps), strict=True))
    times = {moment: EPOCH + timedelta(seconds=moment[0], microseconds=moment[1] // 1000) for moment in set(moments)}
    occur_times = list(map(times.__getitem__, moments))
    names = list(map(_NAME, events))
    if not all(map(EVENT_NAME.fullmatch, filter(None, names))):
        raise ValueError("an event's name is not events/{uuid}")
    batch_key = batch.key
    ids = [name[7:] if name else mint_id(batch_key, index, occur_times[index]) for index, name in enumerate(names)]
    accepted_by, trace_id = batch.accepted_by, batch.trace_id
    return list(
        zip(
            occur_times,
            ids,
            map(_CATEGORY_NUMBER.__getitem__, map(_CATEGORY, events)),
            repeat(batch.accept_time),
            map(_TYPE, events),
            [actor or accepted_by for actor in map(_ACTOR, events)],
            map(_SUBJECT, events),
            map(_SOURCE, events),
            [trace or trace_id for trace in map(_TRACE_ID, events)],
            [_json({key: found[key] for key in found}) if found else _EMPTY for found in map(_ATTRIBUTES, events)],
        )
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
        await self._copy([row(record) for record in records], COLUMNS)

    async def add_accepted(self, batches: Sequence[AcceptedBatch]) -> list[int]:
        rows: list[tuple[Any, ...]] = []
        unreadable = []
        for index, batch in enumerate(batches):
            try:
                rows += accepted_rows(batch)
            except (ValueError, KeyError):
                unreadable.append(index)
        await self._copy(rows, ACCEPTED_COLUMNS)
        return unreadable

    async def _copy(self, rows: list[tuple[Any, ...]], columns: tuple[str, ...]) -> None:
        if not rows:
            return
        with COPY_SECONDS.time():
            driver = await self._driver()
            try:
                async with driver.transaction():  # a savepoint: a conflict undoes only this COPY
                    await driver.copy_records_to_table("events", records=rows, columns=columns)
            except asyncpg.UniqueViolationError:
                await driver.execute(_STAGING_DDL)
                await driver.copy_records_to_table(STAGING, records=rows, columns=columns)
                await driver.execute(_FROM_STAGING)
        COPY_BATCH_SIZE.observe(len(rows))
        self.added += len(rows)

    async def _driver(self) -> asyncpg.Connection:
        """The asyncpg connection of this unit of work's transaction (COPY is asyncpg's, not SQLAlchemy's)."""
        connection = await self.session.connection()
        # SQLAlchemy opens the transaction on the first statement: this one bounds the store's time too.
        await connection.exec_driver_sql("SET LOCAL statement_timeout = '60s'")
        raw = await connection.get_raw_connection()
        return raw.driver_connection

    async def get(self, event_id: uuid.UUID) -> EventRecord:
        statement = sa.select(events).where(events.c.id == event_id).order_by(events.c.category.desc()).limit(1)
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
        return [Count(found.bucket, found.key or "", found.count) for found in result]
