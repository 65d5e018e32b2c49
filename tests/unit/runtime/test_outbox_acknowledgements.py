"""The outbox relay counts an event published only when the stream its subject belongs to acknowledged it."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from nats.js.api import PubAck

from services.support.runtime.messaging import stream_of
from services.support.runtime.outbox_relay import OutboxRelay


class _AnsweringJetStream:
    def __init__(self, stream: str) -> None:
        self.stream = stream
        self.published: list[str] = []

    async def publish(self, subject: str, payload: bytes, headers: dict[str, str] | None = None) -> PubAck:
        self.published.append(subject)
        return PubAck(stream=self.stream, seq=1)


def _row(subject: str) -> dict[str, Any]:
    return {"event_id": uuid.uuid4(), "headers": {}, "event_type": "t", "subject": subject, "payload": b"x"}


async def test_an_acknowledgement_from_a_stream_the_subject_is_not_in_is_not_a_publication() -> None:
    stand_in = _AnsweringJetStream("ATHENAEUM_FAKE")  # what a process squatting on NATS's port answered
    with pytest.raises(Exception, match="ATHENAEUM_FAKE"):
        await OutboxRelay._publish(stand_in, _row("athenaeum.catalog.book_created.v1"))  # type: ignore[arg-type]
    assert stand_in.published == ["athenaeum.catalog.book_created.v1"]


async def test_an_acknowledgement_from_the_subjects_own_stream_is_a_publication() -> None:
    await OutboxRelay._publish(_AnsweringJetStream("ATHENAEUM_CATALOG"), _row("athenaeum.catalog.book_created.v1"))  # type: ignore[arg-type]


def test_the_mesh_subjects_belong_to_their_contexts_streams() -> None:
    assert stream_of("athenaeum.users.session_revoked.v1") == "ATHENAEUM_USERS"
    assert stream_of("athenaeum.dlq.loans.x") == "ATHENAEUM_DLQ"
    assert stream_of("events.ingest.v1") is None
