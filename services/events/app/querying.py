"""Reading the log: one event, pages of events, counts per bucket, and a live watch."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime

from services.events.app.ports import EventsUnitOfWork, LiveFeed
from services.events.domain.aggregation import MAX_COUNTS, Aggregation, Count
from services.events.domain.model import EVENT, Category, EventRecord
from services.events.domain.query import EventQuery
from services.support.runtime.errors import InvalidArgument
from services.support.runtime.pagination import cursor_time, decode_token, fingerprint, page_size
from services.support.runtime.paging import Page, page_from_rows

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 1000


@dataclass(frozen=True, slots=True)
class ListEvents:
    query: EventQuery
    page_size: int = 0
    page_token: str = ""


@dataclass(frozen=True, slots=True)
class PageCursor:
    occur_time: datetime
    id: uuid.UUID
    category: int


async def get_event(name: str, *, uow: EventsUnitOfWork) -> EventRecord:
    """The stored event of that name (NotFound otherwise)."""
    event_id = EVENT.parse_id(name)
    async with uow:
        return await uow.events.get(event_id)


async def list_events(cmd: ListEvents, *, uow: EventsUnitOfWork) -> Page[EventRecord]:
    """Newest first; a page token resumes exactly after the last event of its page."""
    limit = page_size(cmd.page_size, default=DEFAULT_PAGE_SIZE, maximum=MAX_PAGE_SIZE)
    query_id = fingerprint("events", *cmd.query.fingerprint())
    after = _cursor(decode_token(cmd.page_token, query_id))
    async with uow:
        rows = await uow.events.list(cmd.query, limit=limit + 1, after=after)
    return page_from_rows(
        rows,
        limit=limit,
        query=query_id,
        cursor_of=lambda record: (record.occur_time.isoformat(), str(record.id), int(record.category)),
    )


def _cursor(raw: list[object] | None) -> PageCursor | None:
    if raw is None:
        return None
    try:
        moment, event_id, category = raw
        return PageCursor(cursor_time(moment), uuid.UUID(str(event_id)), Category(int(str(category))))
    except (ValueError, TypeError):
        raise InvalidArgument.field("page_token", "is not a token this service issued") from None


async def aggregate_events(aggregation: Aggregation, *, uow: EventsUnitOfWork) -> Sequence[Count]:
    """Counts per bucket (and group) of the stored events the aggregation's query selects."""
    async with uow:
        counts = await uow.events.aggregate(aggregation)
    if len(counts) > MAX_COUNTS:
        raise InvalidArgument.field("interval", f"more than {MAX_COUNTS} counts: narrow the range, widen the buckets")
    return counts


def watch_events(
    query: EventQuery, *, feed: LiveFeed
) -> AbstractAsyncContextManager[AsyncIterator[EventRecord | None]]:
    """Accepted events matching `query` as they come, with heartbeats (None) in between."""
    return feed.watch(query)
