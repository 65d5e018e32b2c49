"""Proto <-> domain for the events API."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import cache
from operator import methodcaller

from athenaeum.events.v1 import events_pb2
from services.events.domain.aggregation import Count
from services.events.domain.model import EventRecord, Recorder
from services.events.domain.query import EventQuery, build_query
from services.events.domain.rules import MAX_REPORTED
from services.support.runtime.access import api_modules
from services.support.runtime.boundary import TIME_RANGE, is_valid_time
from services.support.runtime.callers import current_caller
from services.support.runtime.errors import FieldViolation, InvalidArgument
from services.support.runtime.identity import ME, Identity, current_identity
from services.support.runtime.wire import timestamp, to_datetime


def batch_content(request: events_pb2.BatchRecordEventsRequest | events_pb2.StreamRecordEventsRequest) -> bytes:
    """A batch's events as the same bytes in every process, whatever the order of their maps on the wire
    and the letter case of the request_id (left out: it names the batch, it is not its content)."""
    request_id = request.request_id
    request.ClearField("request_id")  # no copy of a thousand events: the field is put back at once
    try:
        return request.SerializeToString(deterministic=True)
    finally:
        request.request_id = request_id


def event_proto(record: EventRecord) -> events_pb2.Event:
    return events_pb2.Event(
        name=record.name,
        type=record.type,
        category=int(record.category),  # type: ignore[arg-type]
        actor=record.actor,
        subject=record.subject,
        source=record.source,
        occur_time=timestamp(record.occur_time),
        record_time=timestamp(record.record_time),
        attributes=dict(record.attributes),
        trace_id=record.trace_id,
    )


_HAS_RECORD_TIME = methodcaller("HasField", "record_time")


def check_record_times(events: Sequence[events_pb2.Event], *, field: str, single: bool) -> None:
    """The one field of an event the rules do not check (main.py lets them stand for the boundary check on
    the record calls): record_time, output only, never read, but as the boundary would have it, a time."""
    if not any(map(_HAS_RECORD_TIME, events)):  # clients leave it out: one C loop over the batch
        return
    bad = [
        index
        for index, event in enumerate(events)
        if event.HasField("record_time") and not is_valid_time(event.record_time.seconds, event.record_time.nanos)
    ]
    if bad:
        where = [field if single else f"{field}[{index}]" for index in bad[:MAX_REPORTED]]
        raise InvalidArgument([FieldViolation(f"{path}.record_time", TIME_RANGE) for path in where])


def heartbeat(now: datetime) -> events_pb2.Event:
    """An Event with no name, only the server's clock: "still here, nothing new"."""
    return events_pb2.Event(record_time=timestamp(now))


def count_proto(count: Count) -> events_pb2.EventCount:
    return events_pb2.EventCount(start_time=timestamp(count.start_time), key=count.key, count=count.count)


def optional_time(
    message: events_pb2.ListEventsRequest
    | events_pb2.AggregateEventsRequest
    | events_pb2.AnonymizePatronHistoryRequest,
    field: str,
) -> datetime | None:
    if not message.HasField(field):  # type: ignore[arg-type]
        return None
    try:
        return to_datetime(getattr(message, field))
    except (ValueError, OverflowError):
        raise InvalidArgument.field(field, "is not a valid time (years 1 to 9999)") from None


def _actor(actor: str) -> str:
    """ "users/me" is the caller, as everywhere in the API (it matched nothing: "no activity")."""
    identity = current_identity()
    return identity.subject if actor == ME and identity is not None else actor


def list_query(request: events_pb2.ListEventsRequest) -> EventQuery:
    return build_query(
        actor=_actor(request.actor),
        subject=request.subject,
        type=request.type,
        category=request.category,
        start_time=optional_time(request, "start_time"),
        end_time=optional_time(request, "end_time"),
        filter=request.filter,
    )


def watch_query(request: events_pb2.WatchEventsRequest) -> EventQuery:
    return build_query(
        actor=_actor(request.actor),
        subject=request.subject,
        type=request.type,
        category=request.category,
        filter=request.filter,
    )


def recorder(identity: Identity | None) -> Recorder:
    """The signed-in user; a peer service of the mesh (no user behind the call) records as itself."""
    if identity is not None:
        return Recorder(identity.subject, identity.is_staff)
    return Recorder(f"services/{current_caller.get().rsplit('/', 1)[-1]}", staff=True)


@cache
def mesh_sources() -> frozenset[str]:
    """The contexts of the mesh's API ("athenaeum.loans.v1" -> "loans"): the sources of its own events."""
    packages = {module.DESCRIPTOR.package for module in api_modules()}
    return frozenset(package.split(".")[1] for package in packages if package.startswith("athenaeum."))
