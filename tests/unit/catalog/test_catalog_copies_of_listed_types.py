"""A copy's item type comes from the list: create, update and the bulk import refuse one it does not have."""

from datetime import UTC, datetime

import pytest

from services.catalog.app import copies
from services.catalog.app.importing import ImportBooks, ImportChunk, import_books
from services.catalog.domain.books import Book, BookDetails
from services.catalog.domain.copy_values import CopyDetails
from services.catalog.domain.item_types import ItemType, ItemTypeFilter
from services.support.runtime.clock import FixedClock
from services.support.runtime.errors import InvalidArgument
from tests.unit.catalog.fakes import FakeCatalog

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
CLOCK = FixedClock(NOW)


@pytest.fixture
def catalog() -> FakeCatalog:
    catalog = FakeCatalog()
    catalog.state.item_types["DVD"] = ItemType("DVD", "Films", False, created_at=NOW, updated_at=NOW)
    return catalog


@pytest.fixture
def book(catalog: FakeCatalog) -> Book:
    book = Book.register(BookDetails(title="Solaris"), now=NOW)
    catalog.state.books[book.id] = book
    return book


async def _add(catalog: FakeCatalog, book: Book, barcode: str, item_type: str = ""):
    command = copies.CreateCopy(book.id, CopyDetails(barcode=barcode, item_type=item_type))
    return await copies.create_copy(command, uow=catalog(), clock=CLOCK)


async def test_a_copy_of_a_listed_type_is_added_in_any_case_and_no_type_is_book(catalog, book) -> None:
    assert (await _add(catalog, book, "D-1", "dvd")).details.item_type == "DVD"
    assert (await _add(catalog, book, "B-1")).details.item_type == "BOOK"


async def test_a_typo_in_the_item_type_is_refused_naming_the_type_and_where_to_define_it(catalog, book) -> None:
    """A typo (BOK) went in quietly and fell to the circulation rules' "*" row."""
    with pytest.raises(InvalidArgument) as unknown:
        await _add(catalog, book, "B-1", "bok")
    assert unknown.value.reason == "UNKNOWN_ITEM_TYPE"
    assert [(v.field, v.description) for v in unknown.value.violations] == [
        ("copy.item_type", "unknown item type BOK: define it in itemTypes first")
    ]
    assert not catalog.state.copies


@pytest.mark.parametrize(("typed", "listed"), [("\u00df", "SS"), ("\u0131", "I"), ("\u017f", "S")])
async def test_a_letter_upper_case_would_fold_into_ascii_does_not_land_on_a_listed_type(
    catalog, book, typed: str, listed: str
) -> None:
    catalog.state.item_types[listed] = ItemType(listed, "Look-alike", False, created_at=NOW, updated_at=NOW)
    with pytest.raises(InvalidArgument) as unknown:
        await _add(catalog, book, "L-1", typed)
    assert unknown.value.reason == "UNKNOWN_ITEM_TYPE" and not catalog.state.copies
    assert not ItemTypeFilter.of([typed]).admits(listed)


async def test_an_update_to_an_unlisted_type_is_refused_and_other_changes_need_no_listed_type(catalog, book) -> None:
    copy = await _add(catalog, book, "D-1", "DVD")
    with pytest.raises(InvalidArgument) as unknown:
        update = copies.UpdateCopy(book.id, copy.id, CopyDetails("", item_type="VHS"), None, ("item_type",))
        await copies.update_copy(update, uow=catalog(), clock=CLOCK)
    assert unknown.value.reason == "UNKNOWN_ITEM_TYPE"
    del catalog.state.item_types["DVD"]  # a copy of a type deleted by hand in the database may still be moved
    update = copies.UpdateCopy(book.id, copy.id, CopyDetails("", branch="EAST"), None, ("branch",))
    assert (await copies.update_copy(update, uow=catalog(), clock=CLOCK)).details.branch == "EAST"


async def test_an_import_whose_copies_type_is_not_listed_names_every_row_with_copies(catalog) -> None:
    del catalog.state.item_types["BOOK"]

    async def chunks():
        yield ImportChunk("isbn,title,authors,copies", [',"Dead Souls",Gogol,2', ',"Notes",,', ',"Nose",,MAIN:1'])

    summary = await import_books(ImportBooks(chunks()), uow=catalog(), clock=CLOCK)
    assert (summary.created, summary.failed, [e.row for e in summary.errors]) == (0, 2, [1, 3])
    assert summary.errors[0].message == "row 1: copies: unknown item type BOOK: define it in itemTypes first"
    assert not catalog.state.books and catalog.state.commits == 0
