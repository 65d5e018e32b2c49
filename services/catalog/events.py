"""Catalog domain events -> proto payloads on JetStream (subject athenaeum.catalog.<event>.v1)."""

from __future__ import annotations

import uuid
from datetime import datetime

from google.protobuf.field_mask_pb2 import FieldMask
from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp

from athenaeum.catalog.v1 import events_pb2
from services.catalog import convert
from services.catalog.domain import BookCreated, BookDeleted, BooksImported, BookUpdated, book_name
from services.catalog.inventory import CopyCreated, CopyDeleted, CopyStatusChanged, CopyUpdated
from services.support.runtime.messaging import subject
from services.support.runtime.outbox import OutboxMessage
from services.support.runtime.wire import outbox_message, timestamp

BOOK_CREATED_SUBJECT = subject("catalog", "book_created")


def _payload(event: object, event_id: str, occurred: Timestamp) -> Message:
    match event:
        case BookCreated(book=book):
            return events_pb2.BookCreated(event_id=event_id, occur_time=occurred, book=convert.book_to_proto(book))
        case BookUpdated(book=book, changed=changed):
            return events_pb2.BookUpdated(
                event_id=event_id,
                occur_time=occurred,
                book=convert.book_to_proto(book),
                update_mask=FieldMask(paths=list(changed)),
            )
        case BookDeleted(book_id=book_id, isbn=isbn, title=title):
            return events_pb2.BookDeleted(
                event_id=event_id, occur_time=occurred, name=book_name(book_id), isbn=isbn, title=title
            )
        case CopyCreated(copy=copy):
            return events_pb2.CopyCreated(event_id=event_id, occur_time=occurred, copy=convert.copy_to_proto(copy))
        case CopyUpdated(copy=copy, changed=changed):
            return events_pb2.CopyUpdated(
                event_id=event_id,
                occur_time=occurred,
                copy=convert.copy_to_proto(copy),
                update_mask=FieldMask(paths=list(changed)),
            )
        case CopyDeleted(copy=copy):
            return events_pb2.CopyDeleted(
                event_id=event_id, occur_time=occurred, name=copy.name, barcode=copy.details.barcode
            )
        case CopyStatusChanged():
            return events_pb2.CopyStatusChanged(
                event_id=event_id,
                occur_time=occurred,
                name=event.copy.name,
                book=book_name(event.copy.book_id),
                barcode=event.copy.details.barcode,
                previous_status=convert.status_to_proto(event.previous),
                status=convert.status_to_proto(event.status),
                loan=event.loan,
                hold=event.hold,
                available_copies=max(event.available_copies, 0),
            )
        case BooksImported():
            return events_pb2.BooksImported(
                event_id=event_id,
                occur_time=occurred,
                created_count=event.created,
                updated_count=event.updated,
                failed_count=event.failed,
            )
    raise TypeError(f"no wire format for {type(event).__name__}")


def encode(event: object) -> OutboxMessage:
    """The outbox message for a catalog domain event."""
    event_id: uuid.UUID = event.event_id  # type: ignore[attr-defined]
    occurred_at: datetime = event.occurred_at  # type: ignore[attr-defined]
    payload = _payload(event, str(event_id), timestamp(occurred_at))
    return outbox_message("catalog", payload, event_id=event_id, occurred_at=occurred_at)


def book_name_of(event: object) -> str:
    """The book ("books/{id}") a domain event is about; "" for events about no single book."""
    match event:
        case BookCreated(book=book) | BookUpdated(book=book):
            return book.name
        case BookDeleted(book_id=book_id):
            return book_name(book_id)
        case CopyCreated(copy=copy) | CopyUpdated(copy=copy) | CopyDeleted(copy=copy) | CopyStatusChanged(copy=copy):
            return book_name(copy.book_id)
    return ""


def book_of(payload: Message) -> str:
    """The book ("books/{id}") a catalog event is about; "" for events about no single book."""
    if isinstance(payload, events_pb2.BookCreated | events_pb2.BookUpdated):
        return payload.book.name
    if isinstance(payload, events_pb2.CopyStatusChanged):
        return payload.book
    if isinstance(payload, events_pb2.CopyCreated | events_pb2.CopyUpdated):
        return _book_prefix(payload.copy.name)
    if isinstance(payload, events_pb2.BookDeleted | events_pb2.CopyDeleted):
        return _book_prefix(payload.name)
    return ""


def _book_prefix(name: str) -> str:
    return "/".join(name.split("/")[:2])
