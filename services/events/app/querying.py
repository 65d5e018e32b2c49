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
MAX_ANSWER_CHARS = 512 * 1024
"""Characters of events (or of aggregation keys) one answer holds at most. A page of 1,000 events of 16 KiB
each was larger than the edge's REST buffer (8 MiB: a 500) and gRPC's default message (4 MiB) let through. A
page stops before the budget, shorter than page_size (AIP-158 lets it), and its token goes on from there."""


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
    limit = min(limit, _within_budget(rows))
    return page_from_rows(
        rows[: limit + 1],
        limit=limit,
        query=query_id,
        cursor_of=lambda record: (record.occur_time.isoformat(), str(record.id), int(record.category)),
    )


def _within_budget(records: Sequence[EventRecord]) -> int:
    """How many of the leading records fit MAX_ANSWER_CHARS (one at least: an event always fits)."""
    used = 0
    for index, record in enumerate(records):
        used += _chars(record)
        if used > MAX_ANSWER_CHARS:
            return max(index, 1)
    return len(records)


def _chars(record: EventRecord) -> int:
    texts = (record.type, record.actor, record.subject, record.source, *record.attributes, *record.resources)
    return 200 + sum(map(len, texts)) + sum(map(len, record.attributes.values()))  # 200: names, times, keys


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
    if sum(len(count.key) + 60 for count in counts) > MAX_ANSWER_CHARS:
        raise InvalidArgument.field(
            "group_by",
            "the counts' keys are too long to answer at once: narrow the range, widen the buckets or lower top",
        )
    return counts


def watch_events(
    query: EventQuery, *, feed: LiveFeed
) -> AbstractAsyncContextManager[AsyncIterator[EventRecord | None]]:
    """Accepted events matching `query` as they come, with heartbeats (None) in between."""
    return feed.watch(query)
