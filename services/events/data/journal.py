"""The ingestion journal: accepted batches in a JetStream stream on disk, one message per batch.

One message per batch rather than per event: a thousand publishes (each awaiting its ack) would cost more
than the rest of the call (bench/README.md has both measured). `Nats-Msg-Id` is the batch key, so a
retried batch is dropped by JetStream within the duplicate window; the stream is a work queue (a message
leaves once stored) bounded in bytes, and a full one refuses new batches (RESOURCE_EXHAUSTED, retry later)
rather than dropping old ones.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import UTC, datetime

import nats.errors
from nats.js.api import DiscardPolicy, RetentionPolicy, StorageType, StreamConfig
from nats.js.errors import APIError, NotFoundError

from athenaeum.events.v1 import events_pb2
from services.events.data.metrics import ACCEPTED
from services.events.domain.model import AcceptedBatch
from services.support.runtime.errors import DependencyUnavailable, Throttled
from services.support.runtime.messaging import DUPLICATE_WINDOW_SECONDS, NatsLink

INGEST_STREAM = "EVENTS_INGEST"
INGEST_SUBJECT = "events.ingest.v1"
"""Outside `athenaeum.>`: these are not domain events, and the audit trail does not see them."""
BATCH_KEY_HEADER = "Athenaeum-Batch"
ACCEPTED_BY_HEADER = "Athenaeum-Accepted-By"
ACCEPT_TIME_HEADER = "Athenaeum-Accept-Time"
TRACE_ID_HEADER = "Athenaeum-Trace-Id"
STREAM_FULL = 10077
"""JetStream's error code when a stream with DiscardPolicy.NEW is at its limits."""
NO_STORAGE = 10047
"""JetStream's error code when it cannot reserve a stream's max_bytes ("insufficient storage resources available"):
a server sizes its store at 75 % of the disk space free when it starts, unless told a size."""
HEADROOM = 16 * 1024
"""Bytes of a NATS message kept for its headers."""
RETRY_DELAY_SECONDS = 1.0


def ingest_stream(*, max_bytes: int, replicas: int) -> StreamConfig:
    return StreamConfig(
        name=INGEST_STREAM,
        subjects=[INGEST_SUBJECT],
        storage=StorageType.FILE,
        retention=RetentionPolicy.WORK_QUEUE,
        discard=DiscardPolicy.NEW,
        max_bytes=max_bytes,
        duplicate_window=DUPLICATE_WINDOW_SECONDS,
        num_replicas=replicas,
    )


class JournalCannotBeReserved(RuntimeError):
    """JetStream has less room than the ingestion stream is sized for: the service cannot accept events."""


class JetStreamJournal:
    def __init__(self, link: NatsLink, *, max_bytes: int, replicas: int = 1, timeout: float = 2.0) -> None:
        self._link = link
        self._config = ingest_stream(max_bytes=max_bytes, replicas=replicas)
        self._timeout = timeout

    async def declare(self) -> None:
        """Create or update the stream (at start, and again if NATS lost it); JournalCannotBeReserved, saying
        what it needs, when JetStream has not the room for it."""
        try:
            await self._declare()
        except APIError as error:
            if error.err_code != NO_STORAGE:
                raise
            raise JournalCannotBeReserved(
                f"JetStream cannot reserve {_size(self._config.max_bytes or 0)} for the ingest stream "
                f"{INGEST_STREAM}: free disk space where NATS keeps its streams, or lower ATHENAEUM_INGEST_MAX_BYTES"
            ) from error

    async def _declare(self) -> None:
        js = self._link.jetstream()
        try:
            await js.stream_info(INGEST_STREAM)
            await js.update_stream(self._config)
        except NotFoundError:
            await js.add_stream(self._config)

    async def append(self, batch: AcceptedBatch, payload: bytes) -> None:
        if not self._link.is_connected:
            raise _unavailable()
        limit = self._link.client().max_payload - HEADROOM
        chunks = split(payload, limit)
        keys = [batch.key] if len(chunks) == 1 else [f"{batch.key}#{index}" for index in range(len(chunks))]
        try:
            await asyncio.gather(*(self._publish(chunk, key, batch) for chunk, key in zip(chunks, keys, strict=True)))
        except APIError as error:
            if error.err_code == STREAM_FULL:
                raise Throttled(
                    "the ingestion stream is full: retry later",
                    reason="INGESTION_FULL",
                    retry_after=RETRY_DELAY_SECONDS,
                ) from None
            raise _unavailable() from error
        except (nats.errors.Error, OSError, TimeoutError) as error:
            if isinstance(error, nats.errors.NoRespondersError):
                await self._redeclare()
            raise _unavailable() from error
        ACCEPTED.inc(len(batch.events))

    async def _publish(self, chunk: bytes, key: str, batch: AcceptedBatch) -> None:
        headers = {
            "Nats-Msg-Id": key,
            BATCH_KEY_HEADER: key,
            ACCEPTED_BY_HEADER: batch.accepted_by,
            ACCEPT_TIME_HEADER: batch.accept_time.isoformat(),
            TRACE_ID_HEADER: batch.trace_id,
        }
        await self._link.jetstream().publish(INGEST_SUBJECT, chunk, headers=headers, timeout=self._timeout)

    async def _redeclare(self) -> None:
        try:
            await self.declare()
        except Exception:
            return


def _size(count: int) -> str:
    """Bytes as a person reads them: 1 GiB, 512 MiB."""
    for unit, scale in (("TiB", 1 << 40), ("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if count >= scale:
            return f"{count / scale:.3g} {unit}"
    return f"{count} bytes"


def _unavailable() -> DependencyUnavailable:
    return DependencyUnavailable(
        "the ingestion stream cannot be reached: nothing was accepted, retry", retry_after=RETRY_DELAY_SECONDS
    )


def split(payload: bytes, limit: int) -> list[bytes]:
    """The batch as messages of at most `limit` bytes (halving it until each fits): NATS caps a message."""
    if len(payload) <= limit:
        return [payload]
    events = list(events_pb2.BatchRecordEventsRequest.FromString(payload).events)
    if len(events) < 2:
        raise ValueError("one event is larger than a NATS message")  # the rules cap an event far below
    middle = len(events) // 2
    return [
        chunk
        for half in (events[:middle], events[middle:])
        for chunk in split(events_pb2.BatchRecordEventsRequest(events=half).SerializeToString(), limit)
    ]


def read_batch(data: bytes, headers: Mapping[str, str]) -> AcceptedBatch:
    """A journaled batch as the workers read it back (ValueError, KeyError: not one of ours)."""
    events = events_pb2.BatchRecordEventsRequest.FromString(data)
    return AcceptedBatch(
        key=headers.get(BATCH_KEY_HEADER, ""),
        accepted_by=headers.get(ACCEPTED_BY_HEADER, ""),
        accept_time=datetime.fromisoformat(headers[ACCEPT_TIME_HEADER]).astimezone(UTC),
        trace_id=headers.get(TRACE_ID_HEADER, ""),
        events=events.events,
    )
