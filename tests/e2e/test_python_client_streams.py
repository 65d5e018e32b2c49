"""The Python client's streaming calls against the live edge: a bidirectional stream answers one
acknowledgement per batch, sync and async."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from athenaeum_client import AsyncClient, Client, events

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
