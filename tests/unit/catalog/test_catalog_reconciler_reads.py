"""The catalog's answers to the loans reconciler's pass, on the in-memory catalog: a listing of copies by status
counts its copies once, not with every page; the availability of many books is one read."""

import uuid
from datetime import UTC, datetime

from services.catalog.app import books, copies
from services.catalog.domain.books import Book, BookDetails
from services.catalog.domain.copy_values import CopyDetails, CopyStatus
from services.support.runtime.clock import FixedClock
from tests.unit.catalog.fakes import FakeCatalog, FakeCopyRepository

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


async def _book(catalog: FakeCatalog, *statuses: CopyStatus) -> Book:
    book = Book.register(BookDetails(title="Dead Souls"), now=NOW)
    catalog.state.books[book.id] = book
    for status in statuses:
        command = copies.CreateCopy(book.id, CopyDetails(barcode=f"B-{uuid.uuid4().hex[:8]}"))
        copy = await copies.create_copy(command, uow=catalog(), clock=FixedClock(NOW))
        catalog.state.copies[copy.id].status = status
    return book


async def _walk(catalog: FakeCatalog, filter_: str, size: int) -> tuple[int, list[int]]:
    """Every page of the listing: the copies listed and each page's total_size."""
    listed, totals, token = 0, [], ""
    while True:
        page = await copies.list_copies(copies.ListCopies(None, size, token, filter_), uow=catalog())
        listed, totals = listed + len(page.items), [*totals, page.total_size]
        if not (token := page.next_page_token):
            return listed, totals


async def test_a_listing_counts_its_copies_once_for_its_first_page_and_its_pages_repeat_the_count() -> None:
    catalog = FakeCatalog()
    await _book(catalog, *[CopyStatus.ON_LOAN] * 7, CopyStatus.AVAILABLE)
    counted = FakeCopyRepository.counts
    assert await _walk(catalog, "status = ON_LOAN", size=2) == (7, [7, 7, 7, 7])
    assert FakeCopyRepository.counts - counted == 1
    assert await _walk(catalog, "status = ON_LOAN", size=10) == (7, [7])  # one page: its own count
    assert FakeCopyRepository.counts - counted == 1


async def test_the_availability_of_many_books_is_read_at_once_and_a_book_not_in_the_catalog_is_left_out() -> None:
    catalog = FakeCatalog()
    shelved = await _book(catalog, CopyStatus.AVAILABLE, CopyStatus.AVAILABLE, CopyStatus.ON_LOAN)
    out = await _book(catalog, CopyStatus.ON_LOAN, CopyStatus.DAMAGED)
    gone = uuid.uuid4()
    found = await books.get_availability(books.GetAvailability((shelved.id, gone, out.id)), uow=catalog())
    assert found == {shelved.id: 2, out.id: 0}
