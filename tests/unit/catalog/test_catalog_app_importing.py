"""ImportBooks without I/O: CSV rows, the demo generator, and the use case on the in-memory catalog."""

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from services.catalog.api import demo
from services.catalog.app import importing
from services.catalog.app.importing import (
    MAX_IMPORT_COPIES,
    MAX_IMPORT_ROWS,
    ImportBooks,
    ImportChunk,
    ParsedRow,
    RowError,
    import_books,
    parse_header,
    parse_row,
)
from services.catalog.domain.books import BookCreated, BooksImported, BookUpdated
from services.catalog.domain.copy_events import CopyCreated
from services.support.runtime.clock import FixedClock
from services.support.runtime.errors import InvalidArgument
from tests.unit.catalog.fakes import FakeCatalog

COLUMNS = parse_header("isbn,title,authors,publication_year,copies")


def test_a_row_gives_clean_details_and_copies_per_branch() -> None:
    row = parse_row(COLUMNS, 1, '080442957X,"Dead Souls, Vol. 1",Gogol;Гоголь,1842,MAIN:2;EAST:1', current_year=2026)
    assert isinstance(row, ParsedRow)
    assert (row.details.isbn, row.details.title, row.details.authors) == (
        "9780804429573",
        "Dead Souls, Vol. 1",
        ("Gogol", "Гоголь"),
    )
    assert row.copies == (("MAIN", 2), ("EAST", 1))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('1234,"T",,,', "book.isbn"),
        ('," ",,,', "book.title"),
        (',"T",,1842', "expected 5 fields"),
        (',"T",,next year,', "not a year"),
        (',"T",,\u00b2,', "not a year"),  # isdigit() passed it and int() refused it: the import answered INTERNAL
        (',"T",,\u0661\u0669\u0669\u0669,', "not a year"),  # Arabic-Indic digits
        (',"T",,,lots', "copies"),
    ],
)
def test_a_bad_row_is_reported_with_its_number_and_reason(text: str, expected: str) -> None:
    row = parse_row(COLUMNS, 7, text, current_year=2026)
    assert isinstance(row, RowError) and row.row == 7
    assert row.message.startswith("row 7:") and expected in row.message


@pytest.mark.parametrize("header", ["", "title,colour", "isbn", "title,title"])
def test_a_bad_header_is_refused(header: str) -> None:
    with pytest.raises(InvalidArgument):
        parse_header(header)


def test_the_demo_library_is_deterministic_valid_and_multilingual() -> None:
    columns = parse_header(demo.HEADER)
    rows = list(demo.rows(400, seed=7))
    assert rows == list(demo.rows(400, seed=7)) != list(demo.rows(400, seed=8))
    parsed = [parse_row(columns, n, text, current_year=2026) for n, text in enumerate(rows, 1)]
    assert all(isinstance(p, ParsedRow) for p in parsed)
    assert {p.details.language for p in parsed} >= {"en", "ru"}
    assert len({p.details.isbn for p in parsed}) == 400
    assert sum(n for p in parsed for _, n in p.copies) / 400 > 2.5  # 10,000 titles give > 25,000 copies
    most_copies = max(demo.COPY_WEIGHTS)
    assert demo.TITLES_PER_IMPORT <= MAX_IMPORT_ROWS and demo.TITLES_PER_IMPORT * most_copies <= MAX_IMPORT_COPIES


CLOCK = FixedClock(datetime(2026, 11, 21, 9, 0, tzinfo=UTC))
HEADER = "isbn,title,authors,copies"


async def _import(catalog: FakeCatalog, rows: list[str], *, request_id: uuid.UUID | None = None):
    async def chunks() -> AsyncIterator[ImportChunk]:
        for start in range(0, len(rows), 2):
            yield ImportChunk(HEADER if start == 0 else "", rows[start : start + 2])

    return await import_books(ImportBooks(chunks(), request_id), uow=catalog(), clock=CLOCK)


async def test_an_import_writes_books_copies_and_one_batch_event_in_one_commit() -> None:
    catalog = FakeCatalog()
    summary = await _import(catalog, ['080442957X,"Dead Souls",Gogol,MAIN:2', ',"Notes",,1', ',"Nothing",,'])
    assert (summary.created, summary.updated, summary.failed) == (3, 0, 0)
    assert len(catalog.state.books) == 3 and len(catalog.state.copies) == 3
    assert catalog.state.commits == 1
    assert [len(catalog.events(kind)) for kind in (BookCreated, CopyCreated, BooksImported)] == [3, 3, 1]
    created = {e.book.details.title: e.book.total_copies for e in catalog.events(BookCreated)}
    assert created["Dead Souls"] == 2  # a new book's event counts the copies the row brought


async def test_one_bad_row_leaves_the_catalog_untouched() -> None:
    catalog = FakeCatalog()
    summary = await _import(catalog, [',"Good",,1', '9780140449137,"Bad ISBN",,1'])
    assert (summary.created, summary.failed, [e.row for e in summary.errors]) == (0, 1, [2])
    assert catalog.state.commits == 0 and not catalog.state.books


async def test_a_known_isbn_updates_its_book_and_an_unchanged_one_is_not_rewritten() -> None:
    catalog = FakeCatalog()
    await _import(catalog, ['080442957X,"Dead Soul",Gogol,', '9780140449136,"Crime and Punishment",Dostoevsky,'])
    summary = await _import(
        catalog, ['080442957X,"Dead Souls",Gogol,1', '9780140449136,"Crime and Punishment",Dostoevsky,']
    )
    assert (summary.created, summary.updated) == (0, 2)
    assert [e.changed for e in catalog.events(BookUpdated)] == [("title",)]
    assert sorted(b.version for b in catalog.state.books.values()) == [1, 2]


async def test_a_repeated_request_id_returns_the_first_outcome_without_importing_again() -> None:
    catalog, request_id = FakeCatalog(), uuid.uuid4()
    first = await _import(catalog, [',"Once",,2'], request_id=request_id)
    again = await _import(catalog, [',"Once",,2'], request_id=request_id)
    assert (again.created, again.updated) == (first.created, first.updated) == (1, 0)
    assert (len(catalog.state.books), len(catalog.state.copies)) == (1, 2)


async def test_a_request_id_reused_for_another_import_is_refused_and_imports_nothing() -> None:
    catalog, request_id = FakeCatalog(), uuid.uuid4()
    await _import(catalog, [',"Once",,2'], request_id=request_id)
    with pytest.raises(InvalidArgument) as refused:
        await _import(catalog, [',"Twice",,1'], request_id=request_id)
    assert refused.value.violations[0].field == "request_id"
    assert (len(catalog.state.books), len(catalog.state.copies)) == (1, 2)


async def test_a_retried_import_split_into_other_messages_is_the_same_import() -> None:
    catalog, request_id, rows = FakeCatalog(), uuid.uuid4(), [',"One",,', ',"Two",,', ',"Three",,']

    async def one_message() -> AsyncIterator[ImportChunk]:
        yield ImportChunk(HEADER, rows)

    first = await _import(catalog, rows, request_id=request_id)
    again = await import_books(ImportBooks(one_message(), request_id), uow=catalog(), clock=CLOCK)
    assert (again.created, again.updated) == (first.created, first.updated) == (3, 0)
    assert len(catalog.state.books) == 3


@pytest.mark.parametrize(
    ("rows", "field"),
    [
        ([f',"Book {n}",,' for n in range(MAX_IMPORT_ROWS + 1)], "rows"),
        ([f',"Book {n}",,1000' for n in range(MAX_IMPORT_COPIES // 1000 + 1)], "copies"),
    ],
)
async def test_an_import_past_its_bounds_is_refused_before_anything_is_written(rows: list[str], field: str) -> None:
    """One import is one transaction held in memory: 2,000 rows of 1,000 copies took the catalog past 1.5 GB."""
    catalog = FakeCatalog()
    with pytest.raises(InvalidArgument) as refused:
        await _import(catalog, [*rows, *[',"never read",,'] * 10])
    assert refused.value.violations[0].field == field and "split the file" in refused.value.message
    assert catalog.state.commits == 0 and not catalog.state.books and not catalog.state.copies


async def test_an_import_at_its_bounds_is_written(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(importing, "MAX_IMPORT_ROWS", 30)
    monkeypatch.setattr(importing, "MAX_IMPORT_COPIES", 50)
    catalog = FakeCatalog()
    summary = await _import(catalog, [',"Ten copies",,10'] * 5 + [',"No copies",,'] * 25)
    assert (summary.created, summary.failed, len(catalog.state.copies)) == (30, 0, 50)
