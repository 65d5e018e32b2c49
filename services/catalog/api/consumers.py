"""JetStream handlers of the catalog: its own change events drop stale books from GetBook's cache."""

from __future__ import annotations

from google.protobuf.message import Message
from nats.aio.msg import Msg

from athenaeum.catalog.v1 import events_pb2
from services.catalog.api.cache import BookCache
from services.catalog.api.events import book_of
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


def invalidate_on_message(cache: BookCache, message: Msg) -> None:
    """Drops the book a catalog event on the wire is about."""
    payload_type = _PAYLOADS.get(message.subject)
    if payload_type is None:
        return
    if (book_id := book_of(payload_type.FromString(message.data))) is not None:
        cache.invalidate([book_id])


def cache_follower(cache: BookCache, link: NatsLink) -> Follower:
    """Follows every catalog event from now on, through NATS restarts (resuming where it stopped), dropping
    the book each is about; the cache serves only while it is up."""
    follower = Follower(
        link,
        name="book-cache-invalidation",
        stream=stream_name("catalog"),
        subject="athenaeum.catalog.>",
        handle=lambda message: invalidate_on_message(cache, message),
    )
    cache.trust_while(follower.health.is_up)
    return follower
