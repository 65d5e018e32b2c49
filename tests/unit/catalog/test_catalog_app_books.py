"""Book use cases on the in-memory catalog: what each commits, publishes and refuses."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from services.catalog.app import books
from services.catalog.app.search_queries import Search, SearchFilters
from services.catalog.domain.books import Book, BookCreated, BookDeleted, BookDetails, BookUpdated
from services.catalog.domain.copies import Copy
from services.catalog.domain.copy_values import CopyDetails, CopyStatus
from services.support.runtime.clock import FixedClock
from services.support.runtime.conflicts import CONCURRENT_UPDATE
from services.support.runtime.errors import AlreadyExists, Conflict, FailedPrecondition, InvalidArgument, NotFound
from tests.unit.catalog.fakes import FakeCatalog

NOW = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)


@pytest.fixture
def catalog() -> FakeCatalog:
    return FakeCatalog()


async def _create(catalog: FakeCatalog, title: str = "Dead Souls", **details: object) -> Book:
    command = books.CreateBook(BookDetails(title=title, **details))  # type: ignore[arg-type]
    return await books.create_book(command, uow=catalog(), clock=FixedClock(NOW))


def _shelve(catalog: FakeCatalog, book: Book, status: CopyStatus = CopyStatus.AVAILABLE) -> Copy:
    copy = Copy.register(book.id, CopyDetails(barcode=uuid.uuid4().hex[:10]), now=NOW, status=CopyStatus.AVAILABLE)
    copy.status = status
    catalog.state.copies[copy.id] = copy
    return copy


async def test_a_created_book_is_committed_with_its_created_event(catalog: FakeCatalog) -> None:
    book = await _create(catalog, "  Dead Souls ", isbn="0-14-118014-5")
    assert catalog.state.books[book.id].details.title == "Dead Souls"
    assert [type(e) for e in catalog.events()] == [BookCreated]
    fetched = await books.get_book(books.GetBook(book.id), uow=catalog())
    assert (fetched.details.isbn, fetched.total_copies) == ("9780141180144", 0)


async def test_a_repeated_create_returns_the_first_book_and_publishes_once(catalog: FakeCatalog) -> None:
    command = books.CreateBook(BookDetails(title="War and Peace"), request_id=uuid.uuid4())
    first = await books.create_book(command, uow=catalog(), clock=FixedClock(NOW))
    again = await books.create_book(command, uow=catalog(), clock=FixedClock(NOW))
    assert again.id == first.id and len(catalog.state.books) == 1 and len(catalog.events()) == 1


async def test_an_invalid_or_duplicate_book_is_refused_and_nothing_is_committed(catalog: FakeCatalog) -> None:
    await _create(catalog, "A", isbn="9780141180144")
    with pytest.raises(InvalidArgument):
        await _create(catalog, " ")
    with pytest.raises(AlreadyExists) as taken:
        await _create(catalog, "B", isbn="0-14-118014-5")
    assert taken.value.reason == "ISBN_TAKEN"
    assert len(catalog.state.books) == 1 and catalog.state.commits == 1


async def test_a_missing_book_is_not_found(catalog: FakeCatalog) -> None:
    with pytest.raises(NotFound):
        await books.get_book(books.GetBook(uuid.uuid4()), uow=catalog())


async def test_an_update_changes_the_masked_fields_and_announces_them(catalog: FakeCatalog) -> None:
    book = await _create(catalog, "Fathers and Sons", language="ru")
    command = books.UpdateBook(book.id, BookDetails(title="Fathers and Children", language="en"), ("title",), book.etag)
    updated = await books.update_book(command, uow=catalog(), clock=FixedClock(NOW))
    assert (updated.details.title, updated.details.language, updated.version) == ("Fathers and Children", "ru", 2)
    assert catalog.state.books[book.id].version == 2
    (event,) = catalog.events(BookUpdated)
    assert isinstance(event, BookUpdated) and event.changed == ("title",)


async def test_an_update_that_changes_nothing_keeps_the_version_and_etag(catalog: FakeCatalog) -> None:
    book = await _create(catalog)
    command = books.UpdateBook(book.id, BookDetails(title="Dead Souls"), ("title",))
    same = await books.update_book(command, uow=catalog(), clock=FixedClock(NOW))
    assert same.etag == book.etag and not catalog.events(BookUpdated)


async def test_an_update_is_refused_for_a_stale_etag_a_bad_mask_or_a_lost_race(catalog: FakeCatalog) -> None:
    book = await _create(catalog)
    changes = BookDetails(title="Dead Souls, Vol. 2")
    with pytest.raises(Conflict) as stale:
        await books.update_book(
            books.UpdateBook(book.id, changes, ("title",), 'W/"9"'), uow=catalog(), clock=FixedClock(NOW)
        )
    assert stale.value.reason == "STALE_ETAG"
    with pytest.raises(InvalidArgument):
        await books.update_book(books.UpdateBook(book.id, changes, ("etag",)), uow=catalog(), clock=FixedClock(NOW))
    uow = catalog()
    async with uow:
        read = await uow.books.get(book.id)
        await books.update_book(books.UpdateBook(book.id, changes, ("title",)), uow=catalog(), clock=FixedClock(NOW))
        read.revise(BookDetails(title="Dead Souls, Vol. 3"), ("title",), now=NOW)
        with pytest.raises(Conflict) as lost:
            await uow.books.save(read)
    assert lost.value.reason == CONCURRENT_UPDATE
    assert catalog.state.books[book.id].details.title == "Dead Souls, Vol. 2"


async def test_a_book_goes_with_its_copies_unless_one_circulates(catalog: FakeCatalog) -> None:
    book = await _create(catalog)
    lent = _shelve(catalog, book, CopyStatus.ON_LOAN)
    _shelve(catalog, book)
    with pytest.raises(FailedPrecondition) as refused:
        await books.delete_book(books.DeleteBook(book.id), uow=catalog(), clock=FixedClock(NOW))
    assert refused.value.reason == "COPIES_IN_CIRCULATION" and book.id in catalog.state.books
    catalog.state.copies[lent.id].status = CopyStatus.AVAILABLE
    with pytest.raises(Conflict):
        await books.delete_book(books.DeleteBook(book.id, etag='W/"7"'), uow=catalog(), clock=FixedClock(NOW))
    await books.delete_book(books.DeleteBook(book.id, etag=book.etag), uow=catalog(), clock=FixedClock(NOW))
    assert not catalog.state.books and not catalog.state.copies
    assert len(catalog.events(BookDeleted)) == 1


async def test_books_are_listed_newest_first_in_pages_that_resume_where_they_stopped(catalog: FakeCatalog) -> None:
    clock = FixedClock(NOW)
    for number in range(5):
        clock.advance(timedelta(minutes=1))
        await books.create_book(books.CreateBook(BookDetails(title=f"Volume {number}")), uow=catalog(), clock=clock)
    titles, token = [], ""
    while True:
        page = await books.list_books(books.ListBooks(page_size=2, page_token=token), uow=catalog())
        titles += [b.details.title for b in page.items]
        assert page.total_size == 5
        if not (token := page.next_page_token):
            break
    assert titles == [f"Volume {n}" for n in reversed(range(5))]


async def test_a_list_filters_and_orders_and_refuses_a_foreign_token(catalog: FakeCatalog) -> None:
    for title, year in (("B", 1990), ("A", 2001), ("C", 2010)):
        await _create(catalog, title, language="en", publication_year=year)
    query = books.ListBooks(page_size=1, filter="publication_year > 1995", order_by="title")
    first = await books.list_books(query, uow=catalog())
    following = books.ListBooks(1, first.next_page_token, query.filter, query.order_by)
    assert [b.details.title for b in first.items + (await books.list_books(following, uow=catalog())).items] == [
        "A",
        "C",
    ]
    with pytest.raises(InvalidArgument) as foreign:
        await books.list_books(books.ListBooks(1, first.next_page_token, order_by="title desc"), uow=catalog())
    assert foreign.value.violations[0].field == "page_token"
    with pytest.raises(InvalidArgument):
        await books.list_books(books.ListBooks(filter="colour = red"), uow=catalog())


async def test_a_search_pages_its_hits_and_counts_facets_over_every_match(catalog: FakeCatalog) -> None:
    for title, language in (("Silent Garden", "en"), ("Silent River", "en"), ("Silent Sea", "ru"), ("Loud", "en")):
        await _create(catalog, title, language=language)
    search = Search(text="silent", facets=("language",))
    found = await books.search_books(books.SearchBooks(search, page_size=2), uow=catalog())
    assert (len(found.page.items), found.page.total_size) == (2, 3)
    assert found.facets == {"language": [("en", 2), ("ru", 1)]}
    rest = await books.search_books(books.SearchBooks(search, 2, found.page.next_page_token), uow=catalog())
    titles = {hit.book.details.title for hit in found.page.items + rest.page.items}
    assert titles == {"Silent Garden", "Silent River", "Silent Sea"} and rest.page.next_page_token == ""


async def test_a_search_without_text_or_filters_or_with_an_unknown_facet_is_refused(catalog: FakeCatalog) -> None:
    for search, field in ((Search(), "query"), (Search(text="x", facets=("colour",)), "facets[0]")):
        with pytest.raises(InvalidArgument) as refused:
            await books.search_books(books.SearchBooks(search), uow=catalog())
        assert refused.value.violations[0].field == field
    only_filters = Search(filters=SearchFilters(language="ru"))
    assert (await books.search_books(books.SearchBooks(only_filters), uow=catalog())).page.items == []
