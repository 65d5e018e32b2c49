"""SearchBooks' cache: what each catalog change drops, never keeping an answer a concurrent change made stale."""

import uuid
from datetime import UTC, datetime
from types import SimpleNamespace

from athenaeum.catalog.v1 import catalog_pb2, events_pb2
from services.catalog.api.cache import BookCache
from services.catalog.api.consumers import invalidate_on_message
from services.catalog.api.search_cache import SearchCache
from services.catalog.api.servicer import CatalogServicer
from services.catalog.domain.books import Book, BookDetails
from services.support.runtime.clock import FixedClock
from tests.unit.catalog.fakes import FakeCatalog

GARDEN = catalog_pb2.SearchBooksRequest(query="garden")
AVAILABLE_GARDEN = catalog_pb2.SearchBooksRequest(
    query="garden", filters=catalog_pb2.SearchFilters(available_only=True)
)
NOW = datetime(2026, 12, 5, tzinfo=UTC)


def _answer(*book_ids: uuid.UUID) -> catalog_pb2.SearchBooksResponse:
    results = [catalog_pb2.SearchResult(book=catalog_pb2.Book(name=f"books/{i}", title="Garden")) for i in book_ids]
    return catalog_pb2.SearchBooksResponse(results=results, total_size=len(book_ids))


def _cached(cache: SearchCache, request: catalog_pb2.SearchBooksRequest, *book_ids: uuid.UUID) -> bytes:
    key = cache.key(request)
    available_only = request.filters.available_only
    cache.get(key)  # as the servicer asks first
    cache.put(key, _answer(*book_ids), books=book_ids, on_availability=available_only, generation=cache.generation())
    assert cache.get(key) is not None
    return key


def test_a_copy_change_drops_the_answers_showing_its_book_and_those_that_depend_on_availability() -> None:
    cache, shown, other = SearchCache(max_bytes=2**20), uuid.uuid4(), uuid.uuid4()
    garden = _cached(cache, GARDEN, shown)
    elsewhere = _cached(cache, catalog_pb2.SearchBooksRequest(query="river"), other)
    available = _cached(cache, AVAILABLE_GARDEN, other)
    cache.invalidate([shown], matches_changed=False)
    assert cache.get(garden) is None  # its counts of available copies moved
    assert cache.get(available) is None  # a book may have begun or ceased to match
    assert cache.get(elsewhere) is not None


def test_a_book_change_drops_every_answer() -> None:
    cache, book_id = SearchCache(max_bytes=2**20), uuid.uuid4()
    keys = [_cached(cache, GARDEN, book_id), _cached(cache, catalog_pb2.SearchBooksRequest(query="river"))]
    cache.invalidate([uuid.uuid4()], matches_changed=True)  # a new book may match either search
    assert all(cache.get(key) is None for key in keys) and len(cache) == 0


def test_an_answer_read_while_a_change_to_its_books_went_by_is_not_kept() -> None:
    cache, shown, other = SearchCache(max_bytes=2**20), uuid.uuid4(), uuid.uuid4()
    key = cache.key(GARDEN)
    before_read = cache.generation()
    cache.invalidate([shown], matches_changed=False)  # a check-out committed while the search was reading
    cache.put(key, _answer(shown), books=[shown], on_availability=False, generation=before_read)
    assert cache.get(key) is None
    before_read = cache.generation()
    cache.invalidate([other], matches_changed=False)  # another book's: the answer still holds
    cache.put(key, _answer(shown), books=[shown], on_availability=False, generation=before_read)
    assert cache.get(key) is not None


def test_an_answer_read_before_more_changes_than_it_remembers_is_not_kept() -> None:
    cache, shown = SearchCache(max_bytes=2**20), uuid.uuid4()
    before_read = cache.generation()
    for _ in range(5000):
        cache.invalidate([uuid.uuid4()], matches_changed=False)
    cache.put(cache.key(GARDEN), _answer(shown), books=[shown], on_availability=False, generation=before_read)
    assert cache.get(cache.key(GARDEN)) is None


def test_the_cache_holds_no_more_bytes_than_it_is_given_dropping_the_least_recently_used() -> None:
    books = [uuid.uuid4() for _ in range(20)]
    size = len(_answer(*books).SerializeToString())
    cache = SearchCache(max_bytes=3 * (size + 300))
    keys = [_cached(cache, catalog_pb2.SearchBooksRequest(query=f"garden {n}"), *books) for n in range(3)]
    cache.get(keys[0])
    _cached(cache, catalog_pb2.SearchBooksRequest(query="garden 3"), *books)
    assert cache.get(keys[1]) is None and cache.get(keys[0]) is not None and len(cache) == 3


def test_an_answer_is_served_until_its_ttl_runs_out_and_only_while_the_feed_is_up() -> None:
    now, feed_up = [0.0], [True]
    cache = SearchCache(max_bytes=2**20, ttl_seconds=5, now=lambda: now[0])
    cache.trust_while(lambda: feed_up[0])
    key = _cached(cache, GARDEN, uuid.uuid4())
    feed_up[0] = False
    assert cache.get(key) is None
    feed_up[0] = True
    assert cache.get(key) is None and len(cache) == 0  # back: what it held may have missed a change
    key = _cached(cache, GARDEN, uuid.uuid4())
    now[0] = 6
    assert cache.get(key) is None


def test_events_on_the_wire_drop_what_they_make_stale() -> None:
    searches, shown = SearchCache(max_bytes=2**20), uuid.uuid4()
    garden = _cached(searches, GARDEN, shown)
    river = _cached(searches, catalog_pb2.SearchBooksRequest(query="river"), uuid.uuid4())
    status = events_pb2.CopyStatusChanged(name=f"books/{shown}/copies/{uuid.uuid4()}", book=f"books/{shown}")
    message = SimpleNamespace(subject="athenaeum.catalog.copy_status_changed.v1", data=status.SerializeToString())
    invalidate_on_message(BookCache(capacity=0), searches, message)
    assert searches.get(garden) is None and searches.get(river) is not None
    imported = events_pb2.BooksImported(created_count=3)
    message = SimpleNamespace(subject="athenaeum.catalog.books_imported.v1", data=imported.SerializeToString())
    invalidate_on_message(BookCache(capacity=0), searches, message)
    assert searches.get(river) is None


async def test_search_books_reads_the_database_once_while_its_answer_is_cached_and_again_after_a_change() -> None:
    catalog = FakeCatalog()
    book = Book.register(BookDetails(title="The Silent Garden"), now=NOW)
    catalog.state.books[book.id] = book
    searches = SearchCache(max_bytes=2**20)
    servicer = CatalogServicer(uow=catalog, clock=FixedClock(NOW), searches=searches)
    first = await servicer.SearchBooks(GARDEN, None)
    second = await servicer.SearchBooks(GARDEN, None)
    assert first == second and [r.book.title for r in first.results] == ["The Silent Garden"]
    assert len(catalog.units) == 1
    searches.invalidate([book.id], matches_changed=False)  # e.g. its copy was lent
    await servicer.SearchBooks(GARDEN, None)
    assert len(catalog.units) == 2


async def test_the_servicer_keeps_an_answer_for_available_books_only_as_depending_on_availability() -> None:
    catalog = FakeCatalog()
    searches = SearchCache(max_bytes=2**20)
    servicer = CatalogServicer(uow=catalog, clock=FixedClock(NOW), searches=searches)
    await servicer.SearchBooks(AVAILABLE_GARDEN, None)  # finds nothing yet
    searches.invalidate([uuid.uuid4()], matches_changed=False)  # a copy of some book came back
    await servicer.SearchBooks(AVAILABLE_GARDEN, None)
    assert len(catalog.units) == 2
