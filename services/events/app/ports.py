"""What the use cases need from the outside world, in domain words: no SQL, gRPC or NATS type here."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import AbstractAsyncContextManager
from datetime import datetime
from types import TracebackType
from typing import Protocol, Self

from services.events.domain.aggregation import Aggregation, Count
from services.events.domain.model import AcceptedBatch, EventRecord
from services.events.domain.partitions import Month
from services.events.domain.query import EventQuery


class Cursor(Protocol):
    """Where a page ended: the last event's (occur_time, id, category)."""

    @property
    def occur_time(self) -> datetime: ...
    @property
    def id(self) -> uuid.UUID: ...
    @property
    def category(self) -> int: ...


class EventRepository(Protocol):
    async def add(self, records: Sequence[EventRecord]) -> None:
        """Store events; one already stored (same name, occur_time and category) is skipped."""

    async def add_accepted(self, batches: Sequence[AcceptedBatch]) -> list[int]:
        """Store the events of accepted batches as `AcceptedBatch.records()` completes them (as `add` does);
        returns the indexes of batches that cannot be read (none of their events is stored)."""

    async def get(self, event_id: uuid.UUID) -> EventRecord:
        """Raises NotFound."""

    async def list(self, query: EventQuery, *, limit: int, after: Cursor | None) -> Sequence[EventRecord]:
        """Up to `limit` events newest first (occur_time, id, category descending), after `after`."""

    async def aggregate(self, aggregation: Aggregation) -> Sequence[Count]:
        """Counts per bucket (and group), buckets in time order, counts largest first."""

    async def anonymize(self, patron: str, *, before: datetime | None) -> int:
        """Replace `patron` in their reading history's records (domain/anonymizing.py), those older than
        `before` if given; returns how many records held them."""

    async def account_roles(self, account: str) -> set[str]:
        """The `user.role` values of the account's own records that carry one (domain/anonymizing.py's
        ACCOUNT_TYPES, AUDIT, subject `account`): what it was, over time."""


class PartitionRepository(Protocol):
    async def months(self) -> list[Month]:
        """The months that have ACTIVITY partitions."""

    async def create(self, months: Sequence[Month]) -> list[str]:
        """Create the missing partitions of these months (both categories); returns their names."""

    async def drop_activity(self, months: Sequence[Month]) -> list[str]:
        """Drop these months' ACTIVITY partitions; returns their names."""

    async def delete_unpartitioned_activity(self, before: datetime) -> int:
        """Delete the ACTIVITY events older than `before` that no monthly partition holds (those of a month
        before the first partition); returns how many."""

    async def delete_expired_activity(self, month: Month, before: datetime) -> int:
        """Delete the ACTIVITY events older than `before` from `month`'s partition; returns how many."""


class EventsUnitOfWork(Protocol):
    @property
    def events(self) -> EventRepository: ...
    @property
    def partitions(self) -> PartitionRepository: ...

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...

    async def commit(self) -> None: ...


class EventJournal(Protocol):
    """Where accepted batches wait, durably, until workers store them (JetStream)."""

    async def append(self, batch: AcceptedBatch, payload: bytes) -> None:
        """Durable when this returns. `payload` holds the batch's events as the client sent them.
        Raises Throttled (the journal is full) or DependencyUnavailable (it cannot be reached)."""


HEARTBEAT = None
"""What a watch yields when nothing happened for a while."""


class LiveFeed(Protocol):
    """Events as they are accepted, for watchers."""

    def watch(self, query: EventQuery) -> AbstractAsyncContextManager[AsyncIterator[EventRecord | None]]:
        """Matching events as they come, None as a heartbeat while none do. The iterator raises Throttled
        when the watcher reads too slowly to keep up."""
