"""GetBook's and SearchBooks' caches in a catalog process that did not make the change: they follow the
catalog's events on the real JetStream stream, as another catalog process (or this one after a restart) would
publish them through the outbox."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from athenaeum.catalog.v1 import catalog_pb2
from services.catalog.api import events
from services.catalog.api.cache import BookCache
from services.catalog.api.consumers import cache_follower
from services.catalog.api.search_cache import SearchCache
from services.catalog.domain.books import Book, BookDetails
from services.catalog.domain.copies import Copy
from services.catalog.domain.copy_values import CopyDetails, CopyStatus
from services.support.runtime.messaging import NatsLink, ensure_streams

pytestmark = pytest.mark.integration
NOW = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)


@pytest.fixture
async def link(nats: str) -> AsyncIterator[NatsLink]:
    link = NatsLink(nats, name="catalog-caches-test")
    connecting = asyncio.create_task(link.run())
    await asyncio.wait_for(link.wait_connected(), 10)
    await ensure_streams(link.jetstream())
    yield link
    connecting.cancel()
    await link.close()


async def _publish(link: NatsLink, event: object) -> None:
    """As the outbox relay publishes an event: its subject, its payload."""
    message = events.encode(event)  # type: ignore[arg-type]
    await link.jetstream().publish(message.subject, message.payload, timeout=5)


async def _until(condition, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline
        await asyncio.sleep(0.05)


def _answer(searches: SearchCache, query: str, *shown: uuid.UUID) -> bytes:
    key = searches.key(catalog_pb2.SearchBooksRequest(query=query))
    searches.get(key)
    generation = searches.generation()
    searches.put(
        key, catalog_pb2.SearchBooksResponse(total_size=1), books=shown, on_availability=False, generation=generation
    )
    assert searches.get(key) is not None
    return key


async def test_a_copy_event_drops_its_book_and_the_answers_showing_it_and_a_book_event_drops_every_answer(
    link: NatsLink,
) -> None:
    books, searches = BookCache(capacity=10), SearchCache(max_bytes=2**20)
    follower = cache_follower(books, searches, link)
    following = asyncio.create_task(follower.run())
    try:
        await _until(follower.health.is_up)
        lent, other = Book.register(BookDetails(title="The Overcoat"), now=NOW), uuid.uuid4()
        books.get(lent.id)
        books.put(lent.id, catalog_pb2.Book(name=lent.name), books.generation())
        showing, elsewhere = _answer(searches, "overcoat", lent.id), _answer(searches, "nose", other)

        copy = Copy.register(lent.id, CopyDetails(barcode="T-1"), now=NOW, status=CopyStatus.AVAILABLE)
        copy.check_out(f"loans/{uuid.uuid4()}", now=NOW)
        await _publish(link, copy.events[-1])
        await _until(lambda: searches.get(showing) is None)
        assert books.get(lent.id) is None
        assert searches.get(elsewhere) is not None  # another book's answer stays

        revised = Book.register(BookDetails(title="The Nose"), now=NOW)
        await _publish(link, revised.events[-1])  # a new book may match any search
        await _until(lambda: searches.get(elsewhere) is None)
    finally:
        following.cancel()
        await asyncio.gather(following, return_exceptions=True)
