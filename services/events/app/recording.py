"""Recording: a batch is checked whole, then appended to the journal; accepted means durable there."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from services.events.app.ports import EventJournal, EventsUnitOfWork
from services.events.domain.budget import RecordingBudget
from services.events.domain.model import AcceptedBatch, EventRecord, NewEvent, Recorder, batch_key
from services.events.domain.rules import check_batch, check_may_record, check_request_id
from services.support.runtime.clock import Clock


@dataclass(frozen=True, slots=True)
class RecordEvents:
    events: Sequence[NewEvent]
    payload: bytes
    """The same events as the client sent them: journaled as they are."""
    recorder: Recorder
    request_id: str = ""
    trace_id: str = ""
    """The record call's trace, the default of events that name none."""
    single: bool = False
    """One event (RecordEvent): errors name `event.field` rather than `events[0].field`."""
    mesh_sources: frozenset[str] = frozenset()
    """The mesh's own services' names, which no person's AUDIT event may give as its source."""
    activity_retention: timedelta | None = None
    """How long ACTIVITY events are kept: an older one is refused (None: no such limit)."""


async def record_events(
    cmd: RecordEvents, *, journal: EventJournal, clock: Clock, budget: RecordingBudget | None = None
) -> AcceptedBatch:
    """Check every event (all or none), spend the reader's budget, then append the batch to the journal."""
    now = clock.now()
    check_request_id(cmd.request_id)
    field = "event" if cmd.single else "events"
    check_batch(cmd.events, now=now, field=field, single=cmd.single, activity_retention=cmd.activity_retention)
    check_may_record(cmd.events, cmd.recorder, now=now, trace_id=cmd.trace_id, mesh_sources=cmd.mesh_sources)
    if budget is not None:
        budget.take(cmd.recorder, len(cmd.events), now=now)
    key = batch_key(recorder=cmd.recorder.name, request_id=cmd.request_id, content=cmd.payload)
    batch = AcceptedBatch(key, cmd.recorder.name, now, cmd.trace_id, cmd.events)
    await journal.append(batch, cmd.payload)
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
