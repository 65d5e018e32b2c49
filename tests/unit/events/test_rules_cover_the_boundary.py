"""BatchRecordEvents and StreamRecordEvents skip the runtime's boundary check (main.py names them
`checked_by_servicer`): the events rules, with the servicer's record_time check, must refuse every batch the
boundary would refuse. Asked about random batches of good events with hostile values put in random fields:
on and past every limit of the boundary, control characters, absurd times, too many events or entries."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest
from google.protobuf.descriptor import FieldDescriptor

from athenaeum.events.v1 import events_pb2
from services.events.api.convert import check_record_times
from services.events.domain.rules import check_batch, check_request_id
from services.support.runtime import boundary
from services.support.runtime.errors import InvalidArgument
from services.support.runtime.wire import timestamp

ROUNDS = 600
NOW = datetime(2026, 12, 2, 12, tzinfo=UTC)
EVENT = events_pb2.Event.DESCRIPTOR
TIMES = [0, 1, 1_700_000_000, 253_402_300_799, 253_402_300_800, -62_135_596_800, -62_135_596_801]
NANOS = [0, 999_999_999, 1_000_000_000, -1]


def _good_event(n: int) -> events_pb2.Event:
    return events_pb2.Event(
        name=f"events/00000000-0000-4000-8000-{n:012d}",
        type="web.search",
        actor="users/42",
        subject="books/7",
        source="web",
        trace_id="0" * 32,
        occur_time=timestamp(NOW),
        attributes={"query": "мастер и маргарита", "page": "2"},
    )


def _hostile_text(rng: random.Random, limit: int) -> str:
    return rng.choice(
        ["", "ok", "x" * limit, "x" * (limit + 1), "a\x00b", "\x7f", "\x9b", "\u202e", "tab\tand\nline", "é" * 3]
    )


def _spoil(rng: random.Random, request: events_pb2.BatchRecordEventsRequest) -> None:
    """Put one hostile value somewhere in the request."""
    fields = request.DESCRIPTOR.fields_by_name
    if rng.random() < 0.05:
        request.request_id = _hostile_text(rng, boundary._rule(fields["request_id"]).max_length)
        return
    if rng.random() < 0.03:
        most = boundary._rule(fields["events"]).max_items
        request.events.extend(_good_event(n) for n in range(len(request.events), most + rng.choice([0, 1])))
        return
    event = rng.choice(request.events)
    field = rng.choice(EVENT.fields)
    rule = boundary._rule(field)
    if field.message_type is not None and field.message_type.GetOptions().map_entry:
        for _ in range(rng.choice([1, 2, 64, 65, rule.max_items, rule.max_items + 1])):
            event.attributes[_hostile_text(rng, rule.max_length)] = _hostile_text(rng, rule.max_length)
    elif field.message_type is not None:  # a Timestamp
        stamp = getattr(event, field.name)
        stamp.seconds, stamp.nanos = rng.choice(TIMES), rng.choice(NANOS)
    elif field.type == FieldDescriptor.TYPE_STRING:
        setattr(event, field.name, _hostile_text(rng, rule.max_length))
    else:  # the category
        event.category = rng.choice([0, 1, 2, 3, -1])  # type: ignore[assignment]


def _boundary_refuses(request: events_pb2.BatchRecordEventsRequest) -> bool:
    return next(boundary._violations(request, ""), None) is not None


def _service_refuses(request: events_pb2.BatchRecordEventsRequest) -> bool:
    try:
        check_record_times(request.events, field="events", single=False)
        check_request_id(request.request_id)
        check_batch(request.events, now=NOW)
    except InvalidArgument:
        return True
    return False


def test_a_good_batch_passes_both() -> None:
    request = events_pb2.BatchRecordEventsRequest(events=[_good_event(n) for n in range(3)])
    assert not _boundary_refuses(request) and not _service_refuses(request)


@pytest.mark.parametrize("seed", range(3))
def test_the_rules_refuse_whatever_the_boundary_refuses(seed: int) -> None:
    rng = random.Random(seed)
    refused_by_boundary = 0
    for _ in range(ROUNDS):
        request = events_pb2.BatchRecordEventsRequest(events=[_good_event(n) for n in range(rng.randint(1, 3))])
        for _ in range(rng.randint(1, 3)):
            _spoil(rng, request)
        if _boundary_refuses(request):
            refused_by_boundary += 1
            assert _service_refuses(request), request
    assert refused_by_boundary > ROUNDS // 4  # the hostile values did reach the boundary's limits


def test_an_absurd_record_time_is_refused_naming_it() -> None:
    events = [_good_event(n) for n in range(3)]
    events[1].record_time.seconds = 253_402_300_800
    with pytest.raises(InvalidArgument) as refused:
        check_record_times(events, field="events", single=False)
    assert [violation.field for violation in refused.value.violations] == ["events[1].record_time"]
