"""A copy's own branch is where it is sent home to (findings-second F8): with the library's branches listed
(ATHENAEUM_LIBRARY_BRANCHES), a copy at a typo branch ("WST" for MAIN and EAST) was taken, pulled for a hold,
sent home to "WST", and no desk could ever receive it there. The catalog now refuses a branch outside the list on
create, update and import, keeps codes trimmed (in the list's spelling when it has one), and the copies' `branch`
filter matches whatever the case and spaces."""

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from services.catalog.app import copies
from services.catalog.app.importing import ImportBooks, ImportChunk, import_books
from services.catalog.domain.books import Book, BookDetails
from services.catalog.domain.copies import Copy
from services.catalog.domain.copy_values import CopyDetails
from services.catalog.settings import CatalogSettings
from services.support.runtime.branches import ANY_BRANCH, LibraryBranches
from services.support.runtime.clock import FixedClock
from services.support.runtime.errors import InvalidArgument
from tests.unit.catalog.fakes import FakeCatalog

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
CLOCK = FixedClock(NOW)
TWO_BRANCHES = LibraryBranches.parse("MAIN, EAST")


@pytest.fixture
def catalog() -> FakeCatalog:
    return FakeCatalog()


@pytest.fixture
def book(catalog: FakeCatalog) -> Book:
    book = Book.register(BookDetails(title="Typo branch"), now=NOW)
    catalog.state.books[book.id] = book
    return book


async def _add(
    catalog: FakeCatalog, book: Book, branch: str, *, branches: LibraryBranches = TWO_BRANCHES, barcode: str = "WS1"
) -> Copy:
    command = copies.CreateCopy(book.id, CopyDetails(barcode=barcode, branch=branch))
    return await copies.create_copy(command, uow=catalog(), clock=CLOCK, branches=branches)


async def _move(catalog: FakeCatalog, copy: Copy, mask: tuple[str, ...], **changes: str) -> Copy:
    command = copies.UpdateCopy(copy.book_id, copy.id, CopyDetails(barcode="", **changes), None, mask)
    return await copies.update_copy(command, uow=catalog(), clock=CLOCK, branches=TWO_BRANCHES)


async def test_a_copy_at_a_branch_the_library_does_not_list_is_refused_naming_the_branches(
    catalog: FakeCatalog, book: Book
) -> None:
    with pytest.raises(InvalidArgument) as refused:
        await _add(catalog, book, "WST")
    (violation,) = refused.value.violations
    assert violation.field == "copy.branch"
    assert violation.description == "'WST' is not a branch of this library: give one of MAIN, EAST"
    assert catalog.state.copies == {}


async def test_a_listed_branch_is_kept_in_the_lists_spelling_and_without_the_list_trimmed_as_typed(
    catalog: FakeCatalog, book: Book
) -> None:
    assert (await _add(catalog, book, " east ")).details.branch == "EAST"
    assert (await _add(catalog, book, "", barcode="WS2")).details.branch == ""  # no branch named: as before
    assert (await _add(catalog, book, " east ", branches=ANY_BRANCH, barcode="WS3")).details.branch == "east"


async def test_an_update_to_an_unlisted_branch_is_refused_and_one_leaving_the_branch_alone_is_not(
    catalog: FakeCatalog, book: Book
) -> None:
    copy = await _add(catalog, book, "MAIN")
    with pytest.raises(InvalidArgument, match=r"copy\.branch: 'WST' is not a branch of this library"):
        await _move(catalog, copy, ("branch",), branch="WST")
    assert (await _move(catalog, copy, ("branch",), branch="east")).details.branch == "EAST"
    # A copy catalogued at "WST" before the list was set may still be described; its branch is fixed by hand.
    legacy = await _add(catalog, book, "WST", branches=ANY_BRANCH, barcode="WS2")
    assert (await _move(catalog, legacy, ("shelf_location",), shelf_location="A-1")).details.branch == "WST"


async def test_an_import_with_copies_at_an_unlisted_branch_is_refused_by_its_row(catalog: FakeCatalog) -> None:
    rows = ["Dead Souls,east:2", "Typo branch,MAIN:1;WST:2"]

    async def chunks() -> AsyncIterator[ImportChunk]:
        yield ImportChunk("title,copies", rows)

    summary = await import_books(ImportBooks(chunks()), uow=catalog(), clock=CLOCK, branches=TWO_BRANCHES)
    assert [e.message for e in summary.errors] == [
        "row 2: copies: 'WST' is not a branch of this library: give one of MAIN, EAST"
    ]
    assert catalog.state.copies == {}

    async def good() -> AsyncIterator[ImportChunk]:
        yield ImportChunk("title,copies", rows[:1])

    await import_books(ImportBooks(good()), uow=catalog(), clock=CLOCK, branches=TWO_BRANCHES)
    assert [c.details.branch for c in catalog.state.copies.values()] == ["EAST", "EAST"]


async def test_the_branch_filter_of_copies_matches_whatever_the_case_and_spaces(
    catalog: FakeCatalog, book: Book
) -> None:
    await _add(catalog, book, "east", branches=ANY_BRANCH)
    for text in ('branch = "EAST"', 'branch = " east "', "branch = East"):
        page = await copies.list_copies(copies.ListCopies(book.id, filter=text), uow=catalog())
        assert [c.details.branch for c in page.items] == ["east"], text
    page = await copies.list_copies(copies.ListCopies(book.id, filter='branch != "EAST"'), uow=catalog())
    assert page.items == []


def test_the_catalog_reads_the_librarys_branches(monkeypatch: pytest.MonkeyPatch) -> None:
    assert CatalogSettings().branches.codes == ()  # none listed: any code
    monkeypatch.setenv("ATHENAEUM_LIBRARY_BRANCHES", "MAIN, EAST")
    assert CatalogSettings().branches == TWO_BRANCHES
    monkeypatch.setenv("ATHENAEUM_LIBRARY_BRANCHES", "MAIN,,EAST")
    with pytest.raises(ValidationError, match="a branch code is empty"):
        CatalogSettings()
