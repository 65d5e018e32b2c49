"""EventsService: proto -> command -> use case -> proto. No rules here (domain/), no SQL (data/)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from typing import Any

import grpc

from athenaeum.events.v1 import events_pb2, events_pb2_grpc
from services.events.api.convert import (
    batch_content,
    check_record_times,
    count_proto,
    event_proto,
    heartbeat,
    list_query,
    mesh_sources,
    optional_time,
    recorder,
    watch_query,
)
from services.events.app.anonymizing import AnonymizePatronHistory, anonymize_patron_history
from services.events.app.ports import EventJournal, EventsUnitOfWork, LiveFeed
from services.events.app.querying import ListEvents, aggregate_events, get_event, list_events, watch_events
from services.events.app.recording import RecordEvents, UsedRequestIds, record_events
from services.events.domain.aggregation import build_aggregation
from services.events.domain.budget import RecordingBudget
from services.events.domain.query import build_query
from services.events.domain.rules import check_batch_size
from services.events.domain.streams import OpenStreams
from services.support.runtime.auth import current_identity, ensure_still_signed_in
from services.support.runtime.clock import Clock
from services.support.runtime.tracing import current_trace_id

Context = grpc.aio.ServicerContext[Any, Any]


class EventsServicer(events_pb2_grpc.EventsServiceServicer):
    def __init__(
        self,
        *,
        uow: Callable[[], EventsUnitOfWork],
        journal: EventJournal,
        feed: LiveFeed,
        clock: Clock,
        activity_retention: timedelta,
        budget: RecordingBudget | None = None,
        used_request_ids: UsedRequestIds | None = None,
    ) -> None:
        self._uow = uow
        self._budget = budget
        self._used = used_request_ids or UsedRequestIds()
        self._activity_retention = activity_retention
        self._journal = journal
        self._feed = feed
        self._clock = clock
        self._streams = OpenStreams()

    async def _record(self, events: Any, payload: bytes, request: Any = None, *, single: bool = False) -> Any:
        events = list(events)  # the wire's Event objects made once, not again by every check that walks them
        check_record_times(events, field="event" if single else "events", single=single)
        request_id = request.request_id if request is not None else ""
        cmd = RecordEvents(
            events=events,
            payload=payload,
            recorder=recorder(current_identity()),
            request_id=request_id,
            content=batch_content(request) if request_id else b"",
            trace_id=current_trace_id(),
            single=single,
            mesh_sources=mesh_sources(),
            activity_retention=self._activity_retention,
        )
        return await record_events(cmd, journal=self._journal, clock=self._clock, used=self._used, budget=self._budget)

    async def RecordEvent(self, request: events_pb2.RecordEventRequest, context: Context) -> events_pb2.Event:
        """Accepts one event."""
        payload = events_pb2.BatchRecordEventsRequest(events=[request.event]).SerializeToString()
        batch = await self._record([request.event], payload, single=True)
        return event_proto(batch.records()[0])

    async def BatchRecordEvents(
        self, request: events_pb2.BatchRecordEventsRequest, context: Context
    ) -> events_pb2.BatchRecordEventsResponse:
        """Accepts up to 1000 events, all or none."""
        check_batch_size(request.ByteSize())  # before its bytes are copied again
        batch = await self._record(request.events, request.SerializeToString(), request)
        return events_pb2.BatchRecordEventsResponse(accepted_count=len(batch.events))

    async def StreamRecordEvents(
        self, request_iterator: AsyncIterator[events_pb2.StreamRecordEventsRequest], context: Context
    ) -> AsyncIterator[events_pb2.StreamRecordEventsResponse]:
        """Accepts batch after batch; one acknowledgement each, in order."""
        caller = recorder(current_identity())
        self._streams.enter(caller)  # before the first batch: one that never comes held the stream open
        try:
            sequence = 0
            async for request in request_iterator:
                ensure_still_signed_in(self._clock.now())
                check_batch_size(request.ByteSize())
                # The same fields under the same numbers: its bytes are a BatchRecordEventsRequest.
                batch = await self._record(request.events, request.SerializeToString(), request)
                yield events_pb2.StreamRecordEventsResponse(sequence=sequence, accepted_count=len(batch.events))
                sequence += 1
        finally:
            self._streams.leave(caller)

    async def GetEvent(self, request: events_pb2.GetEventRequest, context: Context) -> events_pb2.Event:
        """Returns one stored event."""
        return event_proto(await get_event(request.name, uow=self._uow()))

    async def ListEvents(
        self, request: events_pb2.ListEventsRequest, context: Context
    ) -> events_pb2.ListEventsResponse:
        """Stored events, newest first."""
        cmd = ListEvents(list_query(request), request.page_size, request.page_token)
        page = await list_events(cmd, uow=self._uow())
        return events_pb2.ListEventsResponse(
            events=[event_proto(record) for record in page.items], next_page_token=page.next_page_token
        )

    async def WatchEvents(
        self, request: events_pb2.WatchEventsRequest, context: Context
    ) -> AsyncIterator[events_pb2.Event]:
        """Accepted events as they come, with heartbeats."""
        async with watch_events(watch_query(request), feed=self._feed) as items:
            async for item in items:  # a heartbeat at least every few seconds: the check below runs as often
                ensure_still_signed_in(self._clock.now())
                yield heartbeat(self._clock.now()) if item is None else event_proto(item)

    async def AggregateEvents(
        self, request: events_pb2.AggregateEventsRequest, context: Context
    ) -> events_pb2.AggregateEventsResponse:
        """Counts per bucket (and group)."""
        aggregation = build_aggregation(
            start=optional_time(request, "start_time"),
            end=optional_time(request, "end_time"),
            interval=request.interval,
            group_by=request.group_by,
            query=build_query(filter=request.filter),
            top=request.top,
            time_zone=request.time_zone,
        )
        counts = await aggregate_events(aggregation, uow=self._uow())
        return events_pb2.AggregateEventsResponse(
            counts=[count_proto(count) for count in counts], total_count=sum(count.count for count in counts)
        )

    async def AnonymizePatronHistory(
        self, request: events_pb2.AnonymizePatronHistoryRequest, context: Context
    ) -> events_pb2.AnonymizePatronHistoryResponse:
        """Replaces a reader in their reading history's audit records, and records that it did."""
        cmd = AnonymizePatronHistory(
            request.patron,
            requested_by=recorder(current_identity()).name,
            before=optional_time(request, "before_time"),
            trace_id=current_trace_id(),
        )
        count = await anonymize_patron_history(cmd, uow=self._uow(), clock=self._clock)
        return events_pb2.AnonymizePatronHistoryResponse(anonymized_count=count)
