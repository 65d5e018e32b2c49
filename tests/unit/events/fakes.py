"""In-memory ports for the events use cases: the unit of work, the journal, the live feed."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from types import TracebackType
from typing import Self

from services.events.app.ports import Cursor
from services.events.domain.aggregation import Aggregation, Count, bucket_start
from services.events.domain.anonymizing import ACCOUNT_TYPES, anonymized, is_readers
from services.events.domain.model import AcceptedBatch, Category, EventRecord, Recorder
from services.events.domain.partitions import Month
from services.events.domain.query import EventQuery
from services.support.runtime.errors import DependencyUnavailable, NotFound


def key_of(record: EventRecord) -> tuple[object, ...]:
    return (record.occur_time, record.id, int(record.category))


class FakeEventRepository:
    def __init__(self) -> None:
        self.stored: dict[tuple[object, ...], EventRecord] = {}

    async def add(self, records: Sequence[EventRecord]) -> None:
        for record in records:
            self.stored.setdefault(key_of(record), record)

    async def add_accepted(self, batches: Sequence[AcceptedBatch]) -> list[int]:
        unreadable, records = [], []
        for index, batch in enumerate(batches):
            try:
                records += batch.records()
            except (ValueError, KeyError):
                unreadable.append(index)
        await self.add(records)
        return unreadable

    async def get(self, event_id: uuid.UUID) -> EventRecord:
        found = [r for r in self.stored.values() if r.id == event_id]
        if not found:
            raise NotFound(f"events/{event_id}")
        return max(found, key=lambda r: r.category)

    async def anonymize(self, patron: str, *, before: datetime | None) -> int:
        found = {key: r for key, r in self.stored.items() if is_readers(r, patron, before)}
        self.stored.update({key: anonymized(r, patron) for key, r in found.items()})
        return len(found)

    async def account_roles(self, account: str) -> set[str]:
        return {
            r.attributes["user.role"]
            for r in self.stored.values()
            if r.category == Category.AUDIT and r.subject == account and r.type in ACCOUNT_TYPES
            and "user.role" in r.attributes
        }  # fmt: skip

    async def list(self, query: EventQuery, *, limit: int, after: Cursor | None) -> Sequence[EventRecord]:
        rows = sorted((r for r in self.stored.values() if query.matches(r)), key=key_of, reverse=True)
        if after is not None:
            cursor = (after.occur_time, after.id, after.category)
            rows = [r for r in rows if key_of(r) < cursor]
        return rows[:limit]

    async def aggregate(self, aggregation: Aggregation) -> Sequence[Count]:
        counts: dict[tuple[object, str], int] = {}
        for r in self.stored.values():
            if aggregation.start <= r.occur_time < aggregation.end and aggregation.query.matches(r):
                key = _group(r, aggregation.group_by)
                bucket = (bucket_start(r.occur_time, aggregation), key)
                counts[bucket] = counts.get(bucket, 0) + 1
        totals: dict[str, int] = {}
        for (_, key), n in counts.items():
            totals[key] = totals.get(key, 0) + n
        top = set(sorted(totals, key=lambda k: (-totals[k], k))[: aggregation.top])
        return sorted(
            (Count(b, k, n) for (b, k), n in counts.items() if k in top),  # type: ignore[arg-type]
            key=lambda c: (c.start_time, -c.count, c.key),
        )


def _group(record: EventRecord, group_by: str) -> str:
    if not group_by:
        return ""
    if group_by.startswith("attributes."):
        return record.attributes.get(group_by[len("attributes.") :], "")
    return str(getattr(record, group_by))


class FakePartitionRepository:
    def __init__(self, events: Callable[[], FakeEventRepository] = FakeEventRepository) -> None:
        self.activity: set[Month] = set()
        self.audit: set[Month] = set()
        self._events = events

    async def months(self) -> list[Month]:
        return sorted(self.activity)

    async def create(self, months: Sequence[Month]) -> list[str]:
        created = []
        for month in months:
            for category, existing in ((Category.ACTIVITY, self.activity), (Category.AUDIT, self.audit)):
                if month not in existing:
                    existing.add(month)
                    created.append(month.partition(category))
        return created

    async def drop_activity(self, months: Sequence[Month]) -> list[str]:
        self.activity -= set(months)
        return [month.partition(Category.ACTIVITY) for month in months]

    async def delete_expired_activity(self, month: Month, before: datetime) -> int:
        stored = self._events().stored
        gone = [
            key
            for key, record in stored.items()
            if record.category == Category.ACTIVITY
            and record.occur_time < before
            and Month.of(record.occur_time) == month
        ]
        for key in gone:
            del stored[key]
        return len(gone)

    async def delete_unpartitioned_activity(self, before: datetime) -> int:
        stored = self._events().stored
        gone = [
            key
            for key, record in stored.items()
            if record.category == Category.ACTIVITY
            and record.occur_time < before
            and Month.of(record.occur_time) not in self.activity
        ]
        for key in gone:
            del stored[key]
        return len(gone)


class FakeUnitOfWork:
    """One shared store; changes count only once committed."""

    def __init__(self, events: FakeEventRepository | None = None) -> None:
        self.committed = FakeEventRepository() if events is None else events
        self.events = FakeEventRepository()
        self.partitions = FakePartitionRepository(lambda: self.events)
        self.commits = 0

    async def __aenter__(self) -> Self:
        self.events = FakeEventRepository()
        self.events.stored = dict(self.committed.stored)
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        return None

    async def commit(self) -> None:
        self.committed.stored = dict(self.events.stored)
        self.commits += 1


@dataclass
class FakeJournal:
    batches: list[AcceptedBatch] = field(default_factory=list)
    payloads: list[bytes] = field(default_factory=list)
    down: bool = False

    async def append(self, batch: AcceptedBatch, payload: bytes) -> None:
        if self.down:
            raise DependencyUnavailable("the journal is down", retry_after=1.0)
        if any(b.key == batch.key for b in self.batches):
            return  # a repeat within the window is dropped, like JetStream's Nats-Msg-Id
        self.batches.append(batch)
        self.payloads.append(payload)


class FakeFeed:
    def __init__(self, items: list[EventRecord | None]) -> None:
        self.items = items
        self.queries: list[EventQuery] = []

    @asynccontextmanager
    async def watch(self, query: EventQuery) -> AsyncIterator[AsyncIterator[EventRecord | None]]:
        self.queries.append(query)

        async def iterate() -> AsyncIterator[EventRecord | None]:
            for item in self.items:
                if item is None or query.matches(item):
                    yield item

        yield iterate()


@dataclass
class Stamp:
    seconds: int = 0
    nanos: int = 0


@dataclass
class Draft:
    """A NewEvent as a client would send it."""

    type: str = "web.search"
    occur_time: Stamp = field(default_factory=lambda: Stamp(1_796_000_000))
    name: str = ""
    category: int = 0
    actor: str = ""
    subject: str = ""
    source: str = ""
    trace_id: str = ""
    attributes: dict[str, str] = field(default_factory=dict)


READER = Recorder("users/6f1c2d1e-8b0a-4a57-9d0e-2b7f3f1a9c11", staff=False)
LIBRARIAN = Recorder("users/0b5c9f4e-1d2a-4e3b-8c7d-9e0f1a2b3c4d", staff=True)
