"""The catalog's answers to the loans reconciler's pass, on the in-memory catalog: a listing of copies by status
counts its copies once, not with every page, and no page's total contradicts the walk; the availability of
many books is one read."""

import base64
import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

from services.catalog.app import books, copies
from services.catalog.domain.books import Book, BookDetails
from services.catalog.domain.copies import Copy
from services.catalog.domain.copy_values import CopyDetails, CopyStatus
from services.support.runtime.clock import FixedClock
from tests.unit.catalog.fake_catalog_repositories import FakeCopyRepository
from tests.unit.catalog.fakes import FakeCatalog

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


async def _pages(
    catalog: FakeCatalog, book: Book, between: Callable[[], object] = lambda: None
) -> list[tuple[int, int]]:
    """Each page of the book's copies, three at a time: how many it lists and its total_size; `between` runs
    after each page but the last."""
    pages, token = [], ""
    while True:
        page = await copies.list_copies(copies.ListCopies(book.id, 3, token), uow=catalog())
        pages.append((len(page.items), page.total_size))
        if not (token := page.next_page_token):
            return pages
        between()


async def test_every_page_of_a_walk_gives_the_count_when_nothing_changes_during_it() -> None:
    catalog = FakeCatalog()
    book = await _book(catalog, *[CopyStatus.AVAILABLE] * 8)
    assert await _pages(catalog, book) == [(3, 8), (3, 8), (2, 8)]


async def test_copies_catalogued_during_a_walk_raise_its_total_and_the_last_page_gives_what_it_listed() -> None:
    catalog = FakeCatalog()
    book = await _book(catalog, *[CopyStatus.AVAILABLE] * 5)
    shelved = iter(range(1, 99))

    def catalogue_two() -> None:  # after every copy listed so far (B-… < Z-…), so the walk lists them
        for _ in range(2):
            copy = Copy.register(
                book.id, CopyDetails(barcode=f"Z-{next(shelved):02d}"), now=NOW, status=CopyStatus.AVAILABLE
            )
            catalog.state.copies[copy.id] = copy

    assert await _pages(catalog, book, catalogue_two) == [(3, 5), (3, 7), (3, 9)]


async def test_copies_withdrawn_during_a_walk_leave_its_last_page_giving_what_it_listed() -> None:
    catalog = FakeCatalog()
    book = await _book(catalog, *[CopyStatus.AVAILABLE] * 9)
    last_two = sorted(catalog.state.copies.values(), key=lambda copy: copy.details.barcode)[-2:]

    def withdraw() -> None:
        for copy in last_two:
            catalog.state.copies.pop(copy.id, None)

    assert await _pages(catalog, book, withdraw) == [(3, 9), (3, 9), (1, 7)]


async def test_a_page_token_of_the_build_before_still_pages_and_repeats_its_count() -> None:
    catalog = FakeCatalog()
    book = await _book(catalog, *[CopyStatus.AVAILABLE] * 5)
    first = await copies.list_copies(copies.ListCopies(book.id, 2), uow=catalog())
    carried = json.loads(base64.urlsafe_b64decode(first.next_page_token + "=" * (-len(first.next_page_token) % 4)))
    older = {"c": carried["c"][:2], "q": carried["q"]}  # [barcode, total]: no count of the copies listed
    token = base64.urlsafe_b64encode(json.dumps(older).encode()).decode()
    second = await copies.list_copies(copies.ListCopies(book.id, 2, token), uow=catalog())
    assert (len(second.items), second.total_size, bool(second.next_page_token)) == (2, 5, True)
