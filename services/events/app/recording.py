"""Recording: a batch is checked whole, then appended to the journal; accepted means durable there."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from services.events.app.ports import EventJournal, EventsUnitOfWork
from services.events.domain.budget import RecordingBudget
from services.events.domain.model import AcceptedBatch, EventRecord, NewEvent, Recorder, batch_key, request_scope
from services.events.domain.recording_rights import check_may_record
from services.events.domain.rules import check_batch, check_request_id
from services.support.runtime.clock import Clock
from services.support.runtime.errors import InvalidArgument

USED_REQUEST_IDS = 50_000
"""How many request ids a process keeps with their batch's key (~10 MB): minutes of ingestion at 50,000
events/s in batches of hundreds; an id pushed out is no longer checked (its batch stays a key of its own)."""


@dataclass(frozen=True, slots=True)
class RecordEvents:
    events: Sequence[NewEvent]
    payload: bytes
    """The same events as the client sent them: journaled as they are."""
    recorder: Recorder
    request_id: str = ""
    content: bytes = b""
    """What identifies the batch under its request_id: the request serialized deterministically (`payload`
    is not, from one process to another: map order). Empty: `payload`."""
    trace_id: str = ""
    """The record call's trace, the default of events that name none."""
    single: bool = False
    """One event (RecordEvent): errors name `event.field` rather than `events[0].field`."""
    mesh_sources: frozenset[str] = frozenset()
    """The mesh's own services' names, which no person's AUDIT event may give as its source."""
    activity_retention: timedelta | None = None
    """How long ACTIVITY events are kept: an older one is refused (None: no such limit)."""


class UsedRequestIds:
    """The request ids this process accepted batches under, each with its batch's key (the latest
    `capacity`). A batch under a used id with other content is INVALID_ARGUMENT (AIP-155), where the journal
    would have dropped it as a retry after the call said "accepted". A dict look-up per batch: no round trip
    on the ingestion path. A batch that reaches another replica is not checked here, and is not lost either:
    its key differs from the first one's, so it is journaled and stored as a batch of its own."""

    def __init__(self, capacity: int = USED_REQUEST_IDS) -> None:
        self._capacity = capacity
        self._keys: dict[str, str] = {}

    def claim(self, scope: str, key: str) -> bool:
        """True when the id is new here; False for a retry of the same batch; InvalidArgument for another."""
        known = self._keys.get(scope)
        if known == key:
            return False
        if known is not None:
            raise InvalidArgument.field("request_id", "was already used for another batch")
        self._keys[scope] = key
        if len(self._keys) > self._capacity:
            del self._keys[next(iter(self._keys))]  # the oldest claim
        return True

    def release(self, scope: str, key: str) -> None:
        """The claimed batch was not accepted: the id is free again."""
        if self._keys.get(scope) == key:
            del self._keys[scope]


async def record_events(
    cmd: RecordEvents,
    *,
    journal: EventJournal,
    clock: Clock,
    used: UsedRequestIds | None = None,
    budget: RecordingBudget | None = None,
) -> AcceptedBatch:
    """Check every event (all or none), spend the reader's budget, then append the batch to the journal."""
    now = clock.now()
    check_request_id(cmd.request_id)
    field = "event" if cmd.single else "events"
    check_batch(cmd.events, now=now, field=field, single=cmd.single, activity_retention=cmd.activity_retention)
    check_may_record(cmd.events, cmd.recorder, now=now, trace_id=cmd.trace_id, mesh_sources=cmd.mesh_sources)
    if budget is not None:
        budget.take(cmd.recorder, len(cmd.events), now=now)
    recorder, request_id = cmd.recorder.name, cmd.request_id
    key = batch_key(recorder=recorder, request_id=request_id, content=cmd.content or cmd.payload)
    scope = request_scope(recorder=recorder, request_id=request_id)
    claimed = bool(request_id) and used is not None and used.claim(scope, key)
    batch = AcceptedBatch(key, recorder, now, cmd.trace_id, cmd.events)
    try:
        await journal.append(batch, cmd.payload)
    except BaseException:
        if claimed and used is not None:
            used.release(scope, key)
        raise
    return batch


async def store_events(records: Sequence[EventRecord], *, uow: EventsUnitOfWork) -> None:
    """Store events in one transaction (a worker acknowledges their messages after it); an event already
    stored (a redelivery, a client's retry) is stored once."""
    async with uow:
        await uow.events.add(records)
        await uow.commit()


async def store_accepted(batches: Sequence[AcceptedBatch], *, uow: EventsUnitOfWork) -> list[int]:
    """Store the events of accepted batches in one transaction, as `store_events` does; returns the indexes
    of the batches that cannot be read (nothing of them is stored)."""
    async with uow:
        unreadable = await uow.events.add_accepted(batches)
        await uow.commit()
    return unreadable
