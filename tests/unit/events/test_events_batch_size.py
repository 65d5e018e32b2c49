"""A batch's encoded size: over 4 MiB is the client's to split (INVALID_ARGUMENT naming `events`); the server
reads any batch of plain-text events the count and the per-event sizes let through, so that rule, not the
transport, answers it, and no more than 17 MiB of one message, whoever sends it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from athenaeum.events.v1 import events_pb2
from services.events.domain.rules import (
    MAX_ATTRIBUTES,
    MAX_BATCH,
    MAX_BATCH_BYTES,
    MAX_BATCH_READ_BYTES,
    MAX_EVENT_CHARS,
    MAX_VALUE_LENGTH,
    check_batch,
    check_batch_size,
)
from services.support.runtime.errors import InvalidArgument
from services.support.runtime.wire import timestamp

NOW = datetime(2026, 12, 7, 11, 0, tzinfo=UTC)


def test_a_batch_of_4_mib_is_taken_and_one_byte_more_is_the_clients_to_split() -> None:
    check_batch_size(MAX_BATCH_BYTES)
    with pytest.raises(InvalidArgument) as refused:
        check_batch_size(MAX_BATCH_BYTES + 1)
    assert [violation.field for violation in refused.value.violations] == ["events"]
    assert "split it" in refused.value.message


def _largest_event(character: str = "\U0001f4da") -> events_pb2.Event:
    """As many bytes as the per-event rules let an event hold: every attribute, values of `character`."""
    kind = "test." + "x" * 123
    keys = [f"k{n:02d}" for n in range(MAX_ATTRIBUTES)]
    room = MAX_EVENT_CHARS - len(kind) - sum(map(len, keys))
    values = []
    for _ in keys:
        values.append(character * min(MAX_VALUE_LENGTH, room))
        room -= len(values[-1])
    return events_pb2.Event(type=kind, occur_time=timestamp(NOW), attributes=dict(zip(keys, values, strict=True)))


def _encoded(event: events_pb2.Event) -> int:
    return events_pb2.BatchRecordEventsRequest(events=[event], request_id="r" * 64).ByteSize()


def test_the_server_reads_every_plain_text_batch_the_count_and_the_event_sizes_let_through() -> None:
    event = _largest_event("x")
    check_batch([event], now=NOW)  # the rules take it
    assert _encoded(event) > MAX_EVENT_CHARS - 1024  # it is one of the biggest in one-byte characters
    assert MAX_BATCH * _encoded(event) <= MAX_BATCH_READ_BYTES


def test_no_message_over_17_mib_is_read_even_one_the_rules_would_count_as_a_batch() -> None:
    """Any signed-in reader may call BatchRecordEvents: 64 MiB messages of 4-byte characters, a few at once,
    would fill the events pod's memory. Those the transport refuses unread."""
    event = _largest_event()
    check_batch([event], now=NOW)
    assert MAX_BATCH * _encoded(event) > MAX_BATCH_READ_BYTES
    assert MAX_BATCH_READ_BYTES <= 17 * 1024 * 1024
