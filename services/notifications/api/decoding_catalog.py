"""The catalog's events notifications reads (decoding.py has the loans', decoding_users.py the users'): a new
book, and a book edited to add authors, whose (added) authors' followers are told of it."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping

from athenaeum.catalog.v1 import catalog_pb2
from athenaeum.catalog.v1 import events_pb2 as catalog
from services.notifications.domain.follows import NewBook
from services.support.runtime.names import NamePattern
from services.support.runtime.wire import event_subject, to_datetime

BOOK = NamePattern("books/{book}")
BOOK_CREATED = event_subject("catalog", catalog.BookCreated())
BOOK_UPDATED = event_subject("catalog", catalog.BookUpdated())
CATALOG_EVENTS_READ = (BOOK_CREATED, BOOK_UPDATED)
"""The catalog events notifications reads: the consumer is handed no other."""


def new_book(subject: str, data: bytes, *, trace: Mapping[str, str]) -> NewBook | None:
    """The book a BookCreated tells of, or a BookUpdated that changed its authors (with the authors it had);
    None for another event or update; DecodeError / ValueError for garbage."""
    if subject == BOOK_CREATED:
        created = catalog.BookCreated.FromString(data)
        return _book(created.event_id, created, created.book, trace=trace)
    if subject != BOOK_UPDATED:
        return None
    updated = catalog.BookUpdated.FromString(data)
    if "authors" not in updated.update_mask.paths or "authors" not in updated.previous_values:
        return None  # without the authors it had, an edit cannot tell whom it added: better none than all again
    before = json.loads(updated.previous_values["authors"])
    if not isinstance(before, list):
        raise ValueError("previous_values[authors] is not a list")
    return _book(updated.event_id, updated, updated.book, trace=trace, before=tuple(str(a) for a in before))


def _book(
    event_id: str,
    event: catalog.BookCreated | catalog.BookUpdated,
    book: catalog_pb2.Book,
    *,
    trace: Mapping[str, str],
    before: tuple[str, ...] | None = None,
) -> NewBook:
    BOOK.parse(book.name, field="book.name")
    return NewBook(
        event_id=uuid.UUID(event_id),
        occurred_at=to_datetime(event.occur_time),
        book=book.name,
        title=book.title,
        authors=tuple(book.authors),
        trace=dict(trace),
        previous_authors=before,
    )
