"""Cataloguers' copy use cases on the in-memory catalog."""

import uuid
from datetime import UTC, datetime

import pytest

from services.catalog.app import copies
from services.catalog.domain.books import Book, BookDetails
from services.catalog.domain.copies import Copy
from services.catalog.domain.copy_events import CopyCreated, CopyDeleted, CopyStatusChanged
from services.catalog.domain.copy_values import CopyDetails, CopyStatus
from services.support.runtime.clock import FixedClock
from services.support.runtime.conflicts import CONCURRENT_UPDATE
from services.support.runtime.errors import AlreadyExists, Conflict, FailedPrecondition, InvalidArgument, NotFound
from tests.unit.catalog.fakes import FakeCatalog

NOW = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)
CLOCK = FixedClock(NOW)


@pytest.fixture
def catalog() -> FakeCatalog:
    return FakeCatalog()


@pytest.fixture
def book(catalog: FakeCatalog) -> Book:
    book = Book.register(BookDetails(title="Dead Souls"), now=NOW)
    catalog.state.books[book.id] = book
    return book


async def _add(catalog: FakeCatalog, book: Book, barcode: str, **details: str) -> Copy:
    command = copies.CreateCopy(book.id, CopyDetails(barcode=barcode, **details))
    return await copies.create_copy(command, uow=catalog(), clock=CLOCK)


async def test_a_copy_is_added_available_to_an_existing_book(catalog: FakeCatalog, book: Book) -> None:
    copy = await _add(catalog, book, " B-1 ")
    assert (copy.details.barcode, copy.status) == ("B-1", CopyStatus.AVAILABLE)
    assert [type(e) for e in catalog.events()] == [CopyCreated]
    assert await copies.get_copy(copies.GetCopy(book.id, copy.id), uow=catalog()) == copy


async def test_a_repeated_create_returns_the_first_copy(catalog: FakeCatalog, book: Book) -> None:
    command = copies.CreateCopy(book.id, CopyDetails(barcode="B-1"), request_id=uuid.uuid4())
    first = await copies.create_copy(command, uow=catalog(), clock=CLOCK)
    again = await copies.create_copy(command, uow=catalog(), clock=CLOCK)
    assert again.id == first.id and len(catalog.state.copies) == 1


async def test_a_copy_of_no_book_or_with_a_taken_barcode_is_refused(catalog: FakeCatalog, book: Book) -> None:
    await _add(catalog, book, "B-1")
    with pytest.raises(AlreadyExists) as taken:
        await _add(catalog, book, "B-1")
    assert taken.value.reason == "BARCODE_TAKEN"
    with pytest.raises(NotFound):
        await copies.create_copy(
            copies.CreateCopy(uuid.uuid4(), CopyDetails(barcode="B-2")), uow=catalog(), clock=CLOCK
        )
    with pytest.raises(InvalidArgument):
        await copies.create_copy(
            copies.CreateCopy(book.id, CopyDetails(barcode="B-3"), CopyStatus.ON_LOAN), uow=catalog(), clock=CLOCK
        )
    assert len(catalog.state.copies) == 1


async def test_a_copy_is_looked_up_by_its_barcode(catalog: FakeCatalog, book: Book) -> None:
    copy = await _add(catalog, book, "B-1")
    assert (await copies.lookup_copy(copies.LookupCopy(" B-1 "), uow=catalog())).id == copy.id
    with pytest.raises(InvalidArgument):
        await copies.lookup_copy(copies.LookupCopy("  "), uow=catalog())
    with pytest.raises(NotFound) as missing:
        await copies.lookup_copy(copies.LookupCopy("B-9"), uow=catalog())
    assert missing.value.reason == "BARCODE_NOT_FOUND"


async def test_copies_are_listed_by_barcode_in_pages_and_filtered(catalog: FakeCatalog, book: Book) -> None:
    for barcode in ("C", "A", "B"):
        await _add(catalog, book, barcode, branch="EAST" if barcode == "B" else "MAIN")
    first = await copies.list_copies(copies.ListCopies(book.id, page_size=2), uow=catalog())
    rest = await copies.list_copies(copies.ListCopies(book.id, 2, first.next_page_token), uow=catalog())
    assert [c.details.barcode for c in first.items + rest.items] == ["A", "B", "C"]
    assert (first.total_size, rest.next_page_token) == (3, "")
    east = await copies.list_copies(copies.ListCopies(None, filter='branch = "EAST"'), uow=catalog())
    assert [c.details.barcode for c in east.items] == ["B"]
    with pytest.raises(NotFound):
        await copies.list_copies(copies.ListCopies(uuid.uuid4()), uow=catalog())
    with pytest.raises(InvalidArgument):
        await copies.list_copies(copies.ListCopies(book.id, filter="status = BORROWED"), uow=catalog())


async def test_a_cataloguer_marks_a_copy_lost_and_availability_is_announced(catalog: FakeCatalog, book: Book) -> None:
    copy = await _add(catalog, book, "B-1")
    await _add(catalog, book, "B-2")
    command = copies.UpdateCopy(book.id, copy.id, copy.details, CopyStatus.LOST, ("status",), copy.etag)
    lost = await copies.update_copy(command, uow=catalog(), clock=CLOCK)
    assert (lost.status, catalog.state.copies[copy.id].status) == (CopyStatus.LOST, CopyStatus.LOST)
    (event,) = catalog.events(CopyStatusChanged)
    assert isinstance(event, CopyStatusChanged) and event.available_copies == 1


async def test_a_circulating_copy_or_a_stale_etag_refuses_an_update(catalog: FakeCatalog, book: Book) -> None:
    copy = await _add(catalog, book, "B-1")
    with pytest.raises(Conflict):
        stale = copies.UpdateCopy(book.id, copy.id, copy.details, CopyStatus.LOST, ("status",), 'W/"5"')
        await copies.update_copy(stale, uow=catalog(), clock=CLOCK)
    catalog.state.copies[copy.id].status = CopyStatus.ON_LOAN
    with pytest.raises(FailedPrecondition):
        lost = copies.UpdateCopy(book.id, copy.id, copy.details, CopyStatus.LOST, ("status",))
        await copies.update_copy(lost, uow=catalog(), clock=CLOCK)
    assert catalog.state.copies[copy.id].status == CopyStatus.ON_LOAN


async def test_a_copy_changed_since_it_was_read_is_not_overwritten(catalog: FakeCatalog, book: Book) -> None:
    copy = await _add(catalog, book, "B-1")
    uow = catalog()
    async with uow:
        read = await uow.copies.get(book.id, copy.id)
        moved = copies.UpdateCopy(book.id, copy.id, CopyDetails(barcode="B-1", branch="EAST"), None, ("branch",))
        await copies.update_copy(moved, uow=catalog(), clock=CLOCK)
        read.revise(read.details, CopyStatus.DAMAGED, ("status",), now=NOW)
        with pytest.raises(Conflict) as lost:
            await copies.save_copy(read, uow)
    assert lost.value.reason == CONCURRENT_UPDATE


async def test_a_copy_is_deleted_unless_it_circulates(catalog: FakeCatalog, book: Book) -> None:
    kept, gone = await _add(catalog, book, "B-1"), await _add(catalog, book, "B-2")
    catalog.state.copies[kept.id].status = CopyStatus.ON_HOLD_SHELF
    with pytest.raises(FailedPrecondition):
        await copies.delete_copy(copies.DeleteCopy(book.id, kept.id), uow=catalog(), clock=CLOCK)
    await copies.delete_copy(copies.DeleteCopy(book.id, gone.id, gone.etag), uow=catalog(), clock=CLOCK)
    assert list(catalog.state.copies) == [kept.id] and len(catalog.events(CopyDeleted)) == 1
    with pytest.raises(NotFound):
        await copies.get_copy(copies.GetCopy(book.id, gone.id), uow=catalog())
