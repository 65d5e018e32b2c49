"""Catalog domain events -> proto payloads on JetStream (subject athenaeum.catalog.<event>.v1)."""

from __future__ import annotations

from google.protobuf.timestamp_pb2 import Timestamp

from athenaeum.catalog.v1 import events_pb2
from services.catalog.domain import BookCreated
from services.catalog.service import book_to_proto
from services.runtime.messaging import subject
from services.runtime.outbox import OutboxMessage

BOOK_CREATED_SUBJECT = subject("catalog", "book_created")


def encode(event: object) -> OutboxMessage:
    """The outbox message for a catalog domain event."""
    match event:
        case BookCreated():
            occurred = Timestamp()
            occurred.FromDatetime(event.occurred_at)
            payload = events_pb2.BookCreated(
                event_id=str(event.event_id), occur_time=occurred, book=book_to_proto(event.book)
            )
            return OutboxMessage(
                event_id=event.event_id,
                subject=BOOK_CREATED_SUBJECT,
                event_type=payload.DESCRIPTOR.full_name,
                payload=payload.SerializeToString(),
                occurred_at=event.occurred_at,
            )
    raise TypeError(f"no wire format for {type(event).__name__}")
