"""WatchEvents' feed: one core NATS subscription per process (while someone watches) to the ingestion
subject and to every domain event, fanned out to the watchers whose query matches.

Each watcher has a bounded queue. A watcher that reads too slowly to keep up is cut (RESOURCE_EXHAUSTED)
instead of making the process hold ever more events for it.

A core subscription gets every publish, also those JetStream drops as repeats (a client's retried batch,
an outbox publishing an event again): the feed drops a message whose `Nats-Msg-Id` it saw within the last
REPEAT_WINDOW_SECONDS too (best effort: it remembers at most REPEATS_REMEMBERED of them).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from typing import Any

from nats.aio.msg import Msg

from services.events.api.audit import Unreadable, audit_of
from services.events.domain.model import AcceptedBatch, EventRecord
from services.events.domain.query import EventQuery
from services.support.runtime.clock import Clock
from services.support.runtime.errors import Throttled
from services.support.runtime.messaging import NatsLink

log = logging.getLogger("athenaeum.events.live")

ReadBatch = Callable[[bytes, Mapping[str, str]], AcceptedBatch]
DOMAIN_EVENTS = "athenaeum.>"
REPEAT_WINDOW_SECONDS = 300.0
"""Longer than a client's retries and an outbox's re-publishes take (seconds apart)."""
REPEATS_REMEMBERED = 20_000
"""Message ids kept (~4 MB at most, only while someone watches); the oldest are forgotten first."""


class _Recent:
    """Message ids seen within the last `window` seconds, at most `limit` of them."""

    def __init__(self, window: float, limit: int, clock: Callable[[], float] = time.monotonic) -> None:
        self._window = window
        self._limit = limit
        self._clock = clock
        self._seen: OrderedDict[str, float] = OrderedDict()

    def first(self, key: str) -> bool:
        """False when `key` was seen within the window (a repeat); remembers it otherwise."""
        now, seen = self._clock(), self._seen
        while seen and (len(seen) >= self._limit or next(iter(seen.values())) <= now - self._window):
            seen.popitem(last=False)
        if key in seen:
            return False
        seen[key] = now
        return True

    def clear(self) -> None:
        self._seen.clear()


class _Watcher:
    def __init__(self, query: EventQuery, buffer: int) -> None:
        self.query = query
        self.queue: asyncio.Queue[EventRecord] = asyncio.Queue(maxsize=buffer)
        self.overflowed = False

    def offer(self, record: EventRecord) -> None:
        if self.overflowed or not self.query.matches(record):
            return
        try:
            self.queue.put_nowait(record)
        except asyncio.QueueFull:
            self.overflowed = True  # its iterator ends the call; nothing more is kept for it

    async def items(self, heartbeat_seconds: float) -> AsyncIterator[EventRecord | None]:
        while True:
            if self.overflowed and self.queue.empty():
                raise _too_slow()
            try:
                yield await asyncio.wait_for(self.queue.get(), timeout=heartbeat_seconds)
            except TimeoutError:
                yield None
            if self.overflowed:
                raise _too_slow()


def _too_slow() -> Throttled:
    return Throttled(
        "this watch fell too far behind the events (read faster, or narrow its filter); watch again",
        reason="WATCHER_TOO_SLOW",
    )


class NatsLiveFeed:
    def __init__(
        self,
        link: NatsLink,
        *,
        ingest_subject: str,
        read_batch: ReadBatch,
        clock: Clock,
        heartbeat_seconds: float,
        buffer: int,
    ) -> None:
        self._link = link
        self._ingest_subject = ingest_subject
        self._read_batch = read_batch
        self._clock = clock
        self._heartbeat = heartbeat_seconds
        self._buffer = buffer
        self._watchers: set[_Watcher] = set()
        self._subscriptions: list[Any] = []
        self._lock = asyncio.Lock()
        self._recent = _Recent(REPEAT_WINDOW_SECONDS, REPEATS_REMEMBERED)

    @asynccontextmanager
    async def watch(self, query: EventQuery) -> AsyncIterator[AsyncIterator[EventRecord | None]]:
        watcher = _Watcher(query, self._buffer)
        async with self._lock:
            if not self._subscriptions:
                await self._subscribe()
            self._watchers.add(watcher)
        try:
            yield watcher.items(self._heartbeat)
        finally:
            async with self._lock:
                self._watchers.discard(watcher)
                if not self._watchers:
                    await self._unsubscribe()

    async def _subscribe(self) -> None:
        client = self._link.client()
        self._subscriptions = [
            await client.subscribe(self._ingest_subject, cb=self._on_batch),
            await client.subscribe(DOMAIN_EVENTS, cb=self._on_domain_event),
        ]

    async def _unsubscribe(self) -> None:
        subscriptions, self._subscriptions = self._subscriptions, []
        self._recent.clear()
        for subscription in subscriptions:
            try:
                await subscription.unsubscribe()
            except Exception as error:  # NATS away: the subscription dies with the connection anyway
                log.debug("unsubscribe failed: %s", error)

    def _repeated(self, message: Msg) -> bool:
        """Whether JetStream drops this message as a repeat of one it has (within our window)."""
        key = (message.headers or {}).get("Nats-Msg-Id", "")
        return bool(key) and not self._recent.first(f"{message.subject} {key}")

    async def _on_batch(self, message: Msg) -> None:
        if self._repeated(message):
            return
        try:
            records = self._read_batch(message.data, message.headers or {}).records()
        except (ValueError, KeyError):
            return
        self._fan_out(records)

    async def _on_domain_event(self, message: Msg) -> None:
        if message.subject.startswith("athenaeum.dlq.") or self._repeated(message):
            return
        try:
            record = audit_of(message.subject, message.data, message.headers, now=self._clock.now())
        except Unreadable:
            return
        self._fan_out([record])

    def _fan_out(self, records: list[EventRecord]) -> None:
        for watcher in list(self._watchers):
            for record in records:
                watcher.offer(record)
