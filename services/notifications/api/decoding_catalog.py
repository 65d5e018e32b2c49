"""The catalog's events notifications reads (decoding.py has the loans' and the users'): a new book, whose
authors' followers are told of it."""

from __future__ import annotations

import uuid
from collections.abc import Mapping

from athenaeum.catalog.v1 import events_pb2 as catalog
from services.notifications.domain.follows import NewBook
from services.support.runtime.names import NamePattern
from services.support.runtime.wire import event_subject, to_datetime

BOOK = NamePattern("books/{book}")
BOOK_CREATED = event_subject("catalog", catalog.BookCreated())
CATALOG_EVENTS_READ = (BOOK_CREATED,)
"""The catalog events notifications reads: the consumer is handed no other."""


def new_book(subject: str, data: bytes, *, trace: Mapping[str, str]) -> NewBook | None:
    """The book a BookCreated tells of; None for another event; DecodeError / ValueError for garbage."""
    if subject != BOOK_CREATED:
        return None
    created = catalog.BookCreated.FromString(data)
    book = created.book
    BOOK.parse(book.name, field="book.name")
    return NewBook(
        event_id=uuid.UUID(created.event_id),
        occurred_at=to_datetime(created.occur_time),
        book=book.name,
        title=book.title,
        authors=tuple(book.authors),
        trace=dict(trace),
    )
