"""ImportBooks against real Postgres: all or nothing, rows reported by number, ISBN matches update."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from services.catalog.app import books, importing
from services.catalog.data.tables import books as books_table
from services.catalog.data.tables import copies
from services.support.runtime import db
from services.support.runtime.clock import FixedClock
from services.support.runtime.errors import InvalidArgument
from services.support.runtime.outbox import OUTBOX

pytestmark = pytest.mark.integration
CLOCK = FixedClock(datetime(2026, 11, 21, 9, 0, tzinfo=UTC))
HEADER = "isbn,title,authors,subjects,language,publication_year,copies"


async def _stream(header: str, rows: list[str], *, chunk: int = 2) -> AsyncIterator[importing.ImportChunk]:
    for start in range(0, len(rows), chunk):
        yield importing.ImportChunk(header if start == 0 else "", rows[start : start + chunk])


async def _import(
    uow, rows: list[str], header: str = HEADER, request_id: uuid.UUID | None = None
) -> importing.ImportSummary:
    command = importing.ImportBooks(_stream(header, rows), request_id)
    return await importing.import_books(command, uow=uow(), clock=CLOCK)


async def _counts(uow) -> tuple[int, int]:
    async with uow() as unit:
        book_count = await unit.session.scalar(sa.select(sa.func.count()).select_from(books_table))
        copy_count = await unit.session.scalar(sa.select(sa.func.count()).select_from(copies))
    return int(book_count or 0), int(copy_count or 0)


async def test_a_clean_file_is_imported_with_copies_spread_over_branches(catalog_uow) -> None:
    rows = [
        '9780140449136,"Crime and Punishment","Fyodor Dostoevsky",Fiction;Classics,en,1866,MAIN:2;EAST:1',
        ',"Мастер и Маргарита","Михаил Булгаков",Роман,ru,1967,2',
        ',"Untitled Notes",,,,,',
    ]
    summary = await _import(catalog_uow, rows)
    assert (summary.created, summary.updated, summary.failed) == (3, 0, 0)
    assert await _counts(catalog_uow) == (3, 5)
    async with catalog_uow() as unit:
        branches = (await unit.session.scalars(sa.select(copies.c.branch).order_by(copies.c.branch))).all()
        subjects = (await unit.session.scalars(sa.select(OUTBOX.c.subject))).all()
    assert branches == ["", "", "EAST", "MAIN", "MAIN"]
    assert subjects.count("athenaeum.catalog.book_created.v1") == 3
    assert subjects.count("athenaeum.catalog.books_imported.v1") == 1


async def test_one_bad_row_rejects_the_whole_file_and_every_bad_row_is_reported(catalog_uow) -> None:
    rows = [
        ',"Good One","A. Author",,en,2001,1',
        '9780140449137,"Bad ISBN",,,en,2001,1',
        ',"",,,en,2001,1',
        ',"Good Two",,,en,2001,1',
        ',"Too Few Fields"',
        ',"Bad Year",,,en,soon,1',
    ]
    summary = await _import(catalog_uow, rows)
    assert (summary.created, summary.updated, summary.failed) == (0, 0, 4)
    assert [e.row for e in summary.errors] == [2, 3, 5, 6]
    assert "book.isbn" in summary.errors[0].message and summary.errors[0].message.startswith("row 2:")
    assert await _counts(catalog_uow) == (0, 0)  # nothing half-applied


async def test_a_row_with_a_known_isbn_updates_that_book(catalog_uow) -> None:
    await _import(catalog_uow, ['9780140449136,"Crime and Punishmnet",Dostoevsky,,en,1866,1'])
    summary = await _import(catalog_uow, ['978-0-14-044913-6,"Crime and Punishment",Dostoevsky,,en,1866,1'])
    assert (summary.created, summary.updated) == (0, 1)
    page = await books.list_books(books.ListBooks(), uow=catalog_uow())
    assert [(b.details.title, b.total_copies) for b in page.items] == [("Crime and Punishment", 2)]


async def test_a_repeated_isbn_in_one_file_is_reported_on_its_second_row(catalog_uow) -> None:
    summary = await _import(catalog_uow, ['9780140449136,"A",,,,,', '9780140449136,"B",,,,,'])
    assert [(e.row, "already on row 1" in e.message) for e in summary.errors] == [(2, True)]


async def test_a_retried_import_with_the_same_request_id_is_not_applied_twice(catalog_uow) -> None:
    request_id = uuid.uuid4()
    first = await _import(catalog_uow, [',"Once",,,,,2'], request_id=request_id)
    second = await _import(catalog_uow, [',"Once",,,,,2'], request_id=request_id)
    assert (second.created, second.updated) == (first.created, first.updated) == (1, 0)
    assert await _counts(catalog_uow) == (1, 2)


async def test_another_import_under_a_used_request_id_is_an_invalid_argument(catalog_uow) -> None:
    request_id = uuid.uuid4()
    await _import(catalog_uow, [',"Once",,,,,2'], request_id=request_id)
    with pytest.raises(InvalidArgument) as caught:
        await _import(catalog_uow, [',"Another",,,,,1'], request_id=request_id)
    assert caught.value.violations[0].field == "request_id"
    assert await _counts(catalog_uow) == (1, 2)


@pytest.mark.parametrize("header", ["", "title,colour", "isbn,authors", "title,title"])
async def test_a_bad_header_is_an_invalid_argument(catalog_uow, header: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        await _import(catalog_uow, ['"A title"'], header=header)
    assert caught.value.violations[0].field == "header"


async def test_a_commit_of_many_events_writes_them_in_slices_each_once(catalog_uow, monkeypatch) -> None:
    monkeypatch.setattr(db, "OUTBOX_SLICE", 2)  # 3 books with 4 copies: 8 events in 4 statements
    summary = await _import(catalog_uow, [f',"Book {n}",,,en,2001,{n + 1}' for n in range(2)] + [',"B",,,en,2001,1'])
    assert (summary.created, summary.updated) == (3, 0)
    async with catalog_uow() as unit:
        outbox = (await unit.session.execute(sa.select(OUTBOX.c.event_id, OUTBOX.c.subject))).all()
    subjects = [row.subject for row in outbox]
    assert len({row.event_id for row in outbox}) == len(outbox) == 8
    assert subjects.count("athenaeum.catalog.book_created.v1") == 3
    assert subjects.count("athenaeum.catalog.copy_created.v1") == 4
    assert subjects.count("athenaeum.catalog.books_imported.v1") == 1


async def test_an_import_written_in_chunks_is_still_all_or_nothing_with_each_event_once(
    catalog_uow, monkeypatch
) -> None:
    """Each chunk's events go to the outbox before the commit (the service holds one chunk at a time); a
    failure in a later chunk still leaves no book, copy or event of the earlier ones."""
    monkeypatch.setattr(importing, "WRITE_CHUNK", 2)
    known = await _import(catalog_uow, ['9780140449136,"Crime and Punishment",,,en,1866,1'])
    assert known.created == 1
    rows = ['9780140449136,"Crime and Punishment (revised)",,,en,1866,1'] + [
        f',"Book {n}",,,en,2001,2' for n in range(4)
    ]
    summary = await _import(catalog_uow, rows)
    assert (summary.created, summary.updated) == (4, 1)
    assert await _counts(catalog_uow) == (5, 1 + 1 + 8)
    async with catalog_uow() as unit:
        outbox = (await unit.session.execute(sa.select(OUTBOX.c.event_id, OUTBOX.c.subject))).all()
    subjects = [row.subject for row in outbox]
    assert len({row.event_id for row in outbox}) == len(outbox)
    assert subjects.count("athenaeum.catalog.book_created.v1") == 1 + 4
    assert subjects.count("athenaeum.catalog.book_updated.v1") == 1
    assert subjects.count("athenaeum.catalog.copy_created.v1") == 1 + 1 + 8
    assert subjects.count("athenaeum.catalog.books_imported.v1") == 2

    failing = catalog_uow()
    calls = {"n": 0}
    original = type(failing).__aenter__

    async def enter(self):  # the third write of copies fails: chunks one and two were flushed already
        unit = await original(self)
        add_many = unit.copies.add_many

        async def add_copies(new_copies):
            calls["n"] += 1
            if calls["n"] == 3:
                raise RuntimeError("the disk filled up")
            await add_many(new_copies)

        unit.copies.add_many = add_copies
        return unit

    monkeypatch.setattr(type(failing), "__aenter__", enter)
    with pytest.raises(RuntimeError):
        await importing.import_books(
            importing.ImportBooks(_stream(HEADER, [f',"Lost {n}",,,en,2001,1' for n in range(6)]), None),
            uow=failing,
            clock=CLOCK,
        )
    monkeypatch.undo()
    assert await _counts(catalog_uow) == (5, 10)
    async with catalog_uow() as unit:
        assert await unit.session.scalar(sa.select(sa.func.count()).select_from(OUTBOX)) == len(outbox)


async def test_new_books_whose_isbn_was_catalogued_meanwhile_are_a_lost_race_not_an_internal_error(
    catalog_uow,
) -> None:
    """An import looks its ISBNs up and then inserts the new ones: a book catalogued in between made the
    insert fail on the unique ISBN, and the import answered INTERNAL. It is ABORTED now; a retry updates it."""
    from services.catalog.domain.books import Book, BookDetails
    from services.support.runtime.errors import Conflict

    await books.create_book(
        books.CreateBook(BookDetails(title="Raced", isbn="9780306406157")), uow=catalog_uow(), clock=CLOCK
    )
    imported = [Book.register(BookDetails(title=t, isbn=i), now=CLOCK.now()) for t, i in (
        ("Imported", "9780306406157"), ("Other", "9780141180144"))]  # fmt: skip
    async with catalog_uow() as unit:
        with pytest.raises(Conflict) as lost:
            await unit.books.add_many(imported)
    assert lost.value.reason == "ISBN_TAKEN_MEANWHILE"
