"""JetStream handlers of the catalog: its own change events drop stale answers from GetBook's and SearchBooks'
caches."""

from __future__ import annotations

import uuid

from google.protobuf.message import Message
from nats.aio.msg import Msg

from athenaeum.catalog.v1 import events_pb2
from services.catalog.api.cache import BookCache
from services.catalog.api.events import MATCH_CHANGING_SUBJECTS, book_of, changes_every_book_on_the_wire
from services.catalog.api.search_cache import SearchCache
from services.support.runtime.followers import Follower
from services.support.runtime.messaging import NatsLink, stream_name, subject

_PAYLOADS: dict[str, type[Message]] = {
    subject("catalog", name): cls
    for name, cls in (
        ("book_created", events_pb2.BookCreated),
        ("book_updated", events_pb2.BookUpdated),
        ("book_deleted", events_pb2.BookDeleted),
        ("copy_created", events_pb2.CopyCreated),
        ("copy_updated", events_pb2.CopyUpdated),
        ("copy_deleted", events_pb2.CopyDeleted),
        ("copy_status_changed", events_pb2.CopyStatusChanged),
    )
}


def drop_stale(
    cache: BookCache, searches: SearchCache, books: list[uuid.UUID], *, matches_changed: bool, everything: bool = False
) -> None:
    """What a change to these books makes stale, out of both caches: the books, and the searches that show them
    (every search when what searches match may have changed); with `everything` (an item type's not_for_loan
    changed the counts of every book with copies of it), all of both."""
    if everything:
        cache.clear()
        searches.clear()
        return
    if books:
        cache.invalidate(books)
    if books or matches_changed:
        searches.invalidate(books, matches_changed=matches_changed)


def invalidate_on_message(cache: BookCache, searches: SearchCache, message: Msg) -> None:
    """Drops the book a catalog event on the wire is about, and the searches it may have changed."""
    payload_type = _PAYLOADS.get(message.subject)
    book_id = book_of(payload_type.FromString(message.data)) if payload_type is not None else None
    books = [book_id] if book_id is not None else []
    drop_stale(
        cache,
        searches,
        books,
        matches_changed=message.subject in MATCH_CHANGING_SUBJECTS,
        everything=changes_every_book_on_the_wire(message.subject, message.data),
    )


def cache_follower(cache: BookCache, searches: SearchCache, link: NatsLink) -> Follower:
    """Follows every catalog event from now on, through NATS restarts (resuming where it stopped), dropping
    what each makes stale; the caches serve only while it is up."""
    follower = Follower(
        link,
        name="book-cache-invalidation",
        stream=stream_name("catalog"),
        subject="athenaeum.catalog.>",
        handle=lambda message: invalidate_on_message(cache, searches, message),
    )
    cache.trust_while(follower.health.is_up)
    searches.trust_while(follower.health.is_up)
    return follower
