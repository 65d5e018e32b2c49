"""Catalog domain events -> proto payloads on JetStream (subject athenaeum.catalog.<event>.v1)."""

from __future__ import annotations

import dataclasses
import uuid

from google.protobuf.field_mask_pb2 import FieldMask
from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp

from athenaeum.catalog.v1 import events_pb2
from services.catalog.api import convert
from services.catalog.domain.books import BOOK, BookCreated, BookDeleted, BooksImported, BookUpdated
from services.catalog.domain.copies import COPY
from services.catalog.domain.copy_events import CopyCreated, CopyDeleted, CopyStatusChanged, CopyUpdated
from services.catalog.domain.item_types import ItemTypeChanged
from services.support.runtime.errors import InvalidArgument
from services.support.runtime.events import DomainEvent
from services.support.runtime.names import NamePattern
from services.support.runtime.outbox import OutboxMessage
from services.support.runtime.previous_values import previous_values
from services.support.runtime.wire import event_subject, outbox_message, timestamp


def _payload(event: DomainEvent, event_id: str, occurred: Timestamp | None) -> Message:
    match event:
        case BookCreated(book=book):
            return events_pb2.BookCreated(event_id=event_id, occur_time=occurred, book=convert.book_to_proto(book))
        case BookUpdated(book=book, changed=changed, previous=previous):
            before = None if previous is None else convert.book_to_proto(dataclasses.replace(book, details=previous))
            return events_pb2.BookUpdated(
                event_id=event_id,
                occur_time=occurred,
                book=convert.book_to_proto(book),
                update_mask=FieldMask(paths=list(changed)),
                previous_values=previous_values(before, changed) if before is not None else {},
            )
        case BookDeleted(book_id=book_id, isbn=isbn, title=title):
            return events_pb2.BookDeleted(
                event_id=event_id, occur_time=occurred, name=BOOK.format(book_id), isbn=isbn, title=title
            )
        case CopyCreated(copy=copy):
            return events_pb2.CopyCreated(event_id=event_id, occur_time=occurred, copy=convert.copy_to_proto(copy))
        case CopyUpdated(copy=copy, changed=changed, previous=previous):
            was = None if previous is None else convert.copy_to_proto(dataclasses.replace(copy, details=previous))
            return events_pb2.CopyUpdated(
                event_id=event_id,
                occur_time=occurred,
                copy=convert.copy_to_proto(copy),
                update_mask=FieldMask(paths=list(changed)),
                previous_values=previous_values(was, changed) if was is not None else {},
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
                book=BOOK.format(event.copy.book_id),
                barcode=event.copy.details.barcode,
                previous_status=convert.status_to_proto(event.previous),
                status=convert.status_to_proto(event.status),
                loan=event.loan,
                hold=event.hold,
                available_copies=max(event.available_copies, 0),
                note=event.note,
            )
        case ItemTypeChanged(item_type=kind, previous=previous, changed=changed):
            return events_pb2.ItemTypeChanged(
                event_id=event_id,
                occur_time=occurred,
                item_type=convert.item_type_to_proto(kind),
                deleted=event.deleted,
                update_mask=FieldMask(paths=list(changed)),
                previous_values=(
                    previous_values(convert.item_type_to_proto(previous), changed) if previous is not None else {}
                ),
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


def encode(event: DomainEvent) -> OutboxMessage:
    """The outbox message for a catalog domain event."""
    payload = _payload(event, str(event.event_id), timestamp(event.occurred_at))
    return outbox_message("catalog", payload, event_id=event.event_id, occurred_at=event.occurred_at)


def book_id_of(event: DomainEvent) -> uuid.UUID | None:
    """The book a domain event is about; None for events about no single book."""
    match event:
        case BookCreated(book=book) | BookUpdated(book=book):
            return book.id
        case BookDeleted(book_id=book_id):
            return book_id
        case CopyCreated(copy=copy) | CopyUpdated(copy=copy) | CopyDeleted(copy=copy) | CopyStatusChanged(copy=copy):
            return copy.book_id
    return None


def changes_matches(event: DomainEvent) -> bool:
    """Whether what any search matches may differ after this event (a book's change, not a copy's)."""
    return isinstance(event, BookCreated | BookUpdated | BookDeleted | BooksImported)


def changes_every_book(event: DomainEvent) -> bool:
    """Whether any book's answer may differ after this event: an item type became (or stopped being) not for
    loan, which moves its copies, in every book, between available and reference copies; or was renamed, which
    gives its copies another item type."""
    return isinstance(event, ItemTypeChanged) and event.changes_availability


def changes_every_book_on_the_wire(subject: str, data: bytes) -> bool:
    """changes_every_book for a catalog event on the wire."""
    if subject != ITEM_TYPE_CHANGED:
        return False
    paths = events_pb2.ItemTypeChanged.FromString(data).update_mask.paths
    return "not_for_loan" in paths or "code" in paths  # a rename moves copies to another item type


ITEM_TYPE_CHANGED = event_subject("catalog", events_pb2.ItemTypeChanged())


MATCH_CHANGING_SUBJECTS = frozenset(
    event_subject("catalog", payload())
    for payload in (events_pb2.BookCreated, events_pb2.BookUpdated, events_pb2.BookDeleted, events_pb2.BooksImported)
)
"""changes_matches on the wire: the subjects of those events."""


def book_of(payload: Message) -> uuid.UUID | None:
    """The book a catalog event on the wire is about; None for events about no single book."""
    if isinstance(payload, events_pb2.BookCreated | events_pb2.BookUpdated):
        return _book_id(payload.book.name, BOOK)
    if isinstance(payload, events_pb2.CopyStatusChanged):
        return _book_id(payload.book, BOOK)
    if isinstance(payload, events_pb2.CopyCreated | events_pb2.CopyUpdated):
        return _book_id(payload.copy.name, COPY)
    if isinstance(payload, events_pb2.BookDeleted):
        return _book_id(payload.name, BOOK)
    if isinstance(payload, events_pb2.CopyDeleted):
        return _book_id(payload.name, COPY)
    return None


def _book_id(name: str, pattern: NamePattern) -> uuid.UUID | None:
    try:
        return pattern.parse(name)[0]
    except InvalidArgument:
        return None
