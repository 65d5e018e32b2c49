"""The Python client's streaming calls against the live edge: a bidirectional stream answers one
acknowledgement per batch, sync and async; a watch outlives the default deadline of the calls that answer once."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from athenaeum_client import AsyncClient, Client, DeadlineExceeded, events

pytestmark = pytest.mark.e2e


def batches(kind: str, count: int, size: int = 3) -> Iterator[events.StreamRecordEventsRequest]:
    for _ in range(count):
        batch = [events.Event(type=kind, occur_time=datetime.now(UTC)) for _ in range(size)]
        yield events.StreamRecordEventsRequest(events=batch, request_id=str(uuid.uuid4()))


def test_stream_record_events_answers_an_acknowledgement_per_batch(mesh, librarian) -> None:
    """Generated as client-streaming, the call waited for one answer the server never sent: DeadlineExceeded."""
    with Client(mesh.edge_grpc_target, timeout=10) as client:
        client.sign_in(librarian.email, librarian.password)
        acks = list(client.events.stream_record_events(batches(f"test.client{uuid.uuid4().hex[:8]}", 3)))
    assert [(ack.sequence, ack.accepted_count) for ack in acks] == [(0, 3), (1, 3), (2, 3)]


async def test_the_async_client_streams_batches_and_reads_their_acknowledgements(mesh, librarian) -> None:
    async with AsyncClient(mesh.edge_grpc_target, timeout=10) as client:
        await client.sign_in(librarian.email, librarian.password)
        requests = batches(f"test.client{uuid.uuid4().hex[:8]}", 2, size=5)
        acks = [ack async for ack in client.events.stream_record_events(requests)]
    assert [(ack.sequence, ack.accepted_count) for ack in acks] == [(0, 5), (1, 5)]


def watch_an_event_recorded_after(delay: float, client: Client, **call_options: Any) -> events.Event:
    """The first event (not heartbeat) of a new watch, recorded `delay` seconds after the watch started."""
    kind = f"test.watch{uuid.uuid4().hex[:8]}"
    event = events.Event(type=kind, occur_time=datetime.now(UTC))
    recorder = threading.Timer(delay, client.events.record_event, [events.RecordEventRequest(event=event)])
    recorder.start()
    started = time.monotonic()
    try:
        for seen in client.events.watch_events(events.WatchEventsRequest(type=kind), **call_options):
            if seen.name:
                return seen
            assert time.monotonic() - started < delay + 20, "the event never came"  # heartbeats: every 10 s
        raise AssertionError("the watch ended")
    finally:
        recorder.cancel()
        recorder.join()


def test_a_watch_given_no_timeout_outlives_the_default_deadline_of_other_calls(mesh, librarian) -> None:
    """The 30 s default of every call cut a watch (documented to run until the client cancels) at 30 s."""
    with Client(mesh.edge_grpc_target, timeout=1) as client:
        client.sign_in(librarian.email, librarian.password)
        assert watch_an_event_recorded_after(2.5, client).type.startswith("test.watch")


def test_timeout_none_on_a_call_lifts_the_client_default(mesh, librarian) -> None:
    """A call's `timeout=None` read as "not given": the client's default applied all the same."""
    with Client(mesh.edge_grpc_target, timeout=1) as client:
        client.sign_in(librarian.email, librarian.password)
        assert watch_an_event_recorded_after(2.5, client, timeout=None).type.startswith("test.watch")
    with Client(mesh.edge_grpc_target, timeout=1, stream_timeout=1) as client:
        client.sign_in(librarian.email, librarian.password)
        assert watch_an_event_recorded_after(2.5, client, timeout=None).type.startswith("test.watch")
        with pytest.raises(DeadlineExceeded):
            watch_an_event_recorded_after(2.5, client)  # the client's stream_timeout, when the call gives none
