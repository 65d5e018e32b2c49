"""GetBook's cache: LRU + TTL, invalidated by events, never storing what a concurrent change made stale."""

import uuid
from types import SimpleNamespace

from athenaeum.catalog.v1 import catalog_pb2, events_pb2
from services.catalog.api.cache import BookCache
from services.catalog.api.consumers import invalidate_on_message
from services.catalog.api.search_cache import SearchCache


class Ticker:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _book(book_id: uuid.UUID) -> catalog_pb2.Book:
    return catalog_pb2.Book(name=f"books/{book_id}", title="Dead Souls")


def test_a_cached_book_is_served_until_its_ttl_runs_out() -> None:
    clock, book_id = Ticker(), uuid.uuid4()
    cache = BookCache(capacity=10, ttl_seconds=5, now=clock)
    cache.put(book_id, _book(book_id), cache.generation())
    assert cache.get(book_id).title == "Dead Souls"
    clock.now = 6
    assert cache.get(book_id) is None


def test_the_least_recently_used_book_leaves_first() -> None:
    cache = BookCache(capacity=2)
    first, second, third = (uuid.uuid4() for _ in range(3))
    for book_id in (first, second):
        cache.put(book_id, _book(book_id), cache.generation())
    cache.get(first)
    cache.put(third, _book(third), cache.generation())
    assert cache.get(second) is None and cache.get(first) is not None


def test_a_read_that_raced_an_invalidation_is_not_stored() -> None:
    cache, book_id = BookCache(capacity=10), uuid.uuid4()
    before_read = cache.generation()
    cache.invalidate([book_id])  # a change committed while the read was in flight
    cache.put(book_id, _book(book_id), before_read)
    assert cache.get(book_id) is None


def test_an_event_on_the_wire_drops_the_book_it_is_about() -> None:
    cache, book_id = BookCache(capacity=10), uuid.uuid4()
    cache.put(book_id, _book(book_id), cache.generation())
    event = events_pb2.CopyStatusChanged(name=f"books/{book_id}/copies/{uuid.uuid4()}", book=f"books/{book_id}")
    message = SimpleNamespace(subject="athenaeum.catalog.copy_status_changed.v1", data=event.SerializeToString())
    invalidate_on_message(cache, SearchCache(max_bytes=0), message)
    assert cache.get(book_id) is None


def test_a_cache_of_capacity_zero_stores_nothing() -> None:
    cache, book_id = BookCache(capacity=0), uuid.uuid4()
    cache.put(book_id, _book(book_id), cache.generation())
    assert cache.get(book_id) is None and not cache.enabled


async def test_get_book_reads_the_database_once_while_the_book_is_cached() -> None:
    from datetime import UTC, datetime

    from services.catalog.api.servicer import CatalogServicer
    from services.catalog.domain.books import Book, BookDetails
    from services.support.runtime.clock import FixedClock
    from tests.unit.catalog.fakes import FakeCatalog

    catalog = FakeCatalog()
    book = Book.register(BookDetails(title="Dead Souls"), now=datetime(2026, 1, 1, tzinfo=UTC))
    catalog.state.books[book.id] = book
    cache = BookCache(capacity=10)
    servicer = CatalogServicer(uow=catalog, clock=FixedClock(datetime(2026, 1, 1, tzinfo=UTC)), cache=cache)
    request = catalog_pb2.GetBookRequest(name=book.name)
    first = await servicer.GetBook(request, None)
    second = await servicer.GetBook(request, None)
    assert first == second and len(catalog.units) == 1
    cache.invalidate([book.id])
    await servicer.GetBook(request, None)
    assert len(catalog.units) == 2


def test_the_cache_serves_only_while_its_invalidation_feed_is_up_and_starts_empty_when_it_is_back() -> None:
    feed_up = [False]
    cache = BookCache(capacity=10)
    cache.trust_while(lambda: feed_up[0])
    book_id = uuid.uuid4()
    cache.put(book_id, _book(book_id), cache.generation())
    assert cache.get(book_id) is None  # not subscribed yet: nothing is kept
    feed_up[0] = True
    cache.put(book_id, _book(book_id), cache.generation())
    assert cache.get(book_id) is not None
    feed_up[0] = False  # NATS restarting: events may be missed from here on
    assert cache.get(book_id) is None
    feed_up[0] = True
    assert cache.get(book_id) is None and len(cache) == 0  # back: whatever it held may be stale


def test_each_hit_is_a_book_of_its_own() -> None:
    book_id = uuid.uuid4()
    cache = BookCache(capacity=10)
    cache.put(book_id, _book(book_id), cache.generation())
    served = cache.get(book_id)
    served.title = "changed by whoever was served it"
    assert cache.get(book_id) == _book(book_id)


def test_an_item_type_made_not_for_loan_drops_every_cached_book_and_search() -> None:
    """Its copies, in any book, move out of `available_copies`: no cached answer may still count them."""
    book_id, cache, searches = uuid.uuid4(), BookCache(capacity=10), SearchCache(max_bytes=1 << 20)
    cache.put(book_id, _book(book_id), cache.generation())
    described = events_pb2.ItemTypeChanged(update_mask={"paths": ["description"]})
    message = SimpleNamespace(subject="athenaeum.catalog.item_type_changed.v1", data=described.SerializeToString())
    invalidate_on_message(cache, searches, message)
    assert cache.get(book_id) is not None  # a description changes no book
    flagged = events_pb2.ItemTypeChanged(update_mask={"paths": ["not_for_loan"]})
    message = SimpleNamespace(subject="athenaeum.catalog.item_type_changed.v1", data=flagged.SerializeToString())
    searches_before = searches.generation()
    invalidate_on_message(cache, searches, message)
    assert cache.get(book_id) is None and searches.generation() > searches_before
