"""What an event is: recorded by clients (ACTIVITY, usage signals) or read from the mesh's domain events
(AUDIT). Events arrive in batches; a batch is *accepted* (durable in the journal) before it is *stored*."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import IntEnum
from operator import attrgetter
from typing import Protocol

from services.support.runtime.names import NamePattern, canonical_name

EVENT = NamePattern("events/{event}")
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class Read:
    """Readers of one field of an event (or of its occur_time) for `map` over a whole batch: one C loop per
    column where a comprehension would run a Python one (the rules and the store read columns this way)."""

    name, type, category, occur_time = map(attrgetter, ("name", "type", "category", "occur_time"))
    actor, subject, source, trace_id = map(attrgetter, ("actor", "subject", "source", "trace_id"))
    attributes, seconds, nanos = map(attrgetter, ("attributes", "seconds", "nanos"))


class Category(IntEnum):
    """The same numbers as the API's EventCategory."""

    ACTIVITY = 1
    """High-volume usage signals (views, searches); they expire after the retention window."""
    AUDIT = 2
    """State changes and security-relevant actions; kept."""


class Stamp(Protocol):
    """A point in time as seconds and nanoseconds since 1970 (the wire's Timestamp is one)."""

    @property
    def seconds(self) -> int: ...
    @property
    def nanos(self) -> int: ...


class NewEvent(Protocol):
    """An event as a client sends it. The API's message has this shape, so a batch of a thousand is checked
    and stored without being copied into another object first (50,000 events/s is the target)."""

    @property
    def name(self) -> str: ...
    @property
    def type(self) -> str: ...
    @property
    def category(self) -> int: ...
    @property
    def actor(self) -> str: ...
    @property
    def subject(self) -> str: ...
    @property
    def source(self) -> str: ...
    @property
    def occur_time(self) -> Stamp: ...
    @property
    def attributes(self) -> Mapping[str, str]: ...
    @property
    def trace_id(self) -> str: ...


@dataclass(frozen=True, slots=True)
class Recorder:
    """Who records a batch: "users/{user}", and whether they are staff."""

    name: str
    staff: bool


@dataclass(slots=True)
class EventRecord:
    """An event as the log keeps it."""

    id: uuid.UUID
    type: str
    category: Category
    occur_time: datetime
    record_time: datetime
    actor: str = ""
    subject: str = ""
    source: str = ""
    trace_id: str = ""
    attributes: Mapping[str, str] = field(default_factory=dict)
    resources: tuple[str, ...] = ()
    """Every resource name the event touches (its subject and those in its attributes): what answers
    "who did what to this loan". Filled for AUDIT events."""

    @property
    def name(self) -> str:
        return EVENT.format(self.id)


@dataclass(frozen=True, slots=True)
class AcceptedBatch:
    """A batch the journal holds: the events as sent, with what the service added when it accepted them."""

    key: str
    """Identifies the batch (its request id, or a digest of its content): the journal drops a repeat."""
    accepted_by: str
    accept_time: datetime
    trace_id: str
    events: Sequence[NewEvent]

    def records(self) -> list[EventRecord]:
        """The events completed with the batch's defaults, as they will be stored."""
        return [complete(event, self, index) for index, event in enumerate(self.events)]


def batch_key(*, recorder: str, request_id: str, content: bytes) -> str:
    """A request id is scoped to its recorder (one client cannot shadow another's) and carries a digest of
    the batch: another batch under the same id is another key, never dropped as the first one's retry.
    Without an id, the batch's content identifies it, so resending the very same bytes is a retry."""
    if request_id:
        digest = hashlib.blake2b(content, digest_size=16).hexdigest()
        return f"{request_scope(recorder=recorder, request_id=request_id)}/{digest}"
    return hashlib.sha256(recorder.encode() + b"\0" + content).hexdigest()


def request_scope(*, recorder: str, request_id: str) -> str:
    """What a request id names: one recorder's request (its key without the batch's digest)."""
    return f"{recorder}:{request_id.lower()}"


CATEGORY_OF = {0: Category.ACTIVITY, 1: Category.ACTIVITY, 2: Category.AUDIT}
"""Unspecified is ACTIVITY (a dict: this runs for every event)."""


def complete(event: NewEvent, batch: AcceptedBatch, index: int) -> EventRecord:
    """Defaults: a name minted from the batch (the same on a retry), ACTIVITY, the recorder as actor, the
    record call's trace."""
    stamp = event.occur_time
    occur_time = EPOCH + timedelta(seconds=stamp.seconds, microseconds=stamp.nanos // 1000)
    return EventRecord(
        id=uuid.UUID(event.name[7:]) if event.name else mint_id(batch.key, index, occur_time),
        type=event.type,
        category=CATEGORY_OF[event.category],
        occur_time=occur_time,
        record_time=batch.accept_time,
        actor=canonical_name(event.actor) if event.actor else batch.accepted_by,
        subject=canonical_name(event.subject),  # found by the spelling filters use, whichever one was sent
        source=event.source,
        trace_id=event.trace_id or batch.trace_id,
        attributes=event.attributes,
    )


def mint_id(key: str, index: int, occur_time: datetime) -> uuid.UUID:
    """A UUIDv7 carrying occur_time's millisecond, its other bits from the batch key and the index: the
    same on every retry, and findable by time (GetEvent looks there first)."""
    millis = int((occur_time - EPOCH) / timedelta(milliseconds=1)) & ((1 << 48) - 1)
    rest = int.from_bytes(hashlib.blake2b(f"{key}/{index}".encode(), digest_size=10).digest())
    value = (millis << 80) | (rest & ((1 << 80) - 1))
    value = (value & ~(0xF << 76)) | (0x7 << 76)  # version 7
    value = (value & ~(0x3 << 62)) | (0x2 << 62)  # RFC 9562 variant
    return uuid.UUID(int=value)


def uuid7_millis(event_id: uuid.UUID) -> int | None:
    """The millisecond a UUIDv7 carries; None for other versions."""
    return event_id.int >> 80 if event_id.version == 7 else None
