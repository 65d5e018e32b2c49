"""Catalog use cases against a real, migrated Postgres."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from services.catalog.app import books
from services.catalog.domain.books import BookDetails
from services.support.runtime.clock import FixedClock
from services.support.runtime.conflicts import CONCURRENT_UPDATE
from services.support.runtime.errors import AlreadyExists, Conflict, InvalidArgument, NotFound
from services.support.runtime.outbox import OUTBOX

pytestmark = pytest.mark.integration


def _clock() -> FixedClock:
    return FixedClock(datetime(2026, 11, 21, 9, 0, tzinfo=UTC))


async def test_a_created_book_is_persisted_with_its_created_event_in_the_outbox(catalog_uow) -> None:
    book = await books.create_book(
        books.CreateBook(BookDetails(title="Anna Karenina", isbn="9780143035008")), uow=catalog_uow(), clock=_clock()
    )
    fetched = await books.get_book(books.GetBook(book.id), uow=catalog_uow())
    assert fetched.details.title == "Anna Karenina"
    assert fetched.total_copies == 0
    async with catalog_uow() as uow:
        subjects = (await uow.session.execute(sa.select(OUTBOX.c.subject, OUTBOX.c.published_at))).all()
    assert subjects == [("athenaeum.catalog.book_created.v1", None)]


async def test_a_retried_create_with_the_same_request_id_returns_the_first_book(catalog_uow) -> None:
    command = books.CreateBook(BookDetails(title="War and Peace"), request_id=uuid.uuid4())
    first = await books.create_book(command, uow=catalog_uow(), clock=_clock())
    second = await books.create_book(command, uow=catalog_uow(), clock=_clock())
    assert second.id == first.id
    page = await books.list_books(books.ListBooks(), uow=catalog_uow())
    assert page.total_size == 1


async def test_a_duplicate_isbn_is_refused_and_nothing_is_half_written(catalog_uow) -> None:
    await books.create_book(
        books.CreateBook(BookDetails(title="A", isbn="0-14-118014-5")), uow=catalog_uow(), clock=_clock()
    )
    with pytest.raises(AlreadyExists):
        await books.create_book(
            books.CreateBook(BookDetails(title="B", isbn="9780141180144"), request_id=uuid.uuid4()),
            uow=catalog_uow(),
            clock=_clock(),
        )
    async with catalog_uow() as uow:
        outbox_rows = await uow.session.scalar(sa.select(sa.func.count()).select_from(OUTBOX))
    assert outbox_rows == 1  # only the first book's event: the refused one left no trace


async def test_a_missing_book_is_not_found(catalog_uow) -> None:
    with pytest.raises(NotFound):
        await books.get_book(books.GetBook(uuid.uuid4()), uow=catalog_uow())
    with pytest.raises(NotFound):
        await books.get_book(books.GetBook(uuid.uuid4()), uow=catalog_uow.reads())


async def test_a_read_only_unit_of_work_reads_the_same_book_in_one_statement_and_refuses_to_commit(catalog_uow) -> None:
    details = BookDetails(title="Dead Souls", authors=("Nikolai Gogol",), subjects=("Satire",), publication_year=1842)
    book = await books.create_book(books.CreateBook(details), uow=catalog_uow(), clock=_clock())
    async with catalog_uow.reads() as reads:
        fetched = await reads.books.get(book.id)
        connection = await (await reads.session.connection()).get_raw_connection()
        in_transaction = connection.driver_connection.is_in_transaction()
        with pytest.raises(RuntimeError):
            await reads.commit()
    assert fetched == await books.get_book(books.GetBook(book.id), uow=catalog_uow())  # as the session reads it
    assert in_transaction is False  # no BEGIN: the statement was its own transaction


async def test_pages_are_newest_first_stable_and_complete(catalog_uow) -> None:
    clock = _clock()
    for number in range(5):
        clock.advance(timedelta(minutes=1))
        await books.create_book(books.CreateBook(BookDetails(title=f"Volume {number}")), uow=catalog_uow(), clock=clock)
    titles, token = [], ""
    while True:
        page = await books.list_books(books.ListBooks(page_size=2, page_token=token), uow=catalog_uow())
        titles += [book.details.title for book in page.items]
        token = page.next_page_token
        if not token:
            break
    assert titles == [f"Volume {n}" for n in reversed(range(5))]
    assert page.total_size == 5


async def test_a_page_token_from_another_query_is_refused(catalog_uow) -> None:
    for title in ("One", "Two"):
        await books.create_book(books.CreateBook(BookDetails(title=title)), uow=catalog_uow(), clock=_clock())
    page = await books.list_books(books.ListBooks(page_size=1), uow=catalog_uow())
    with pytest.raises(InvalidArgument):
        await books.list_books(
            books.ListBooks(page_size=1, page_token=page.next_page_token, order_by="title"), uow=catalog_uow()
        )


async def test_a_revision_of_a_book_someone_changed_meanwhile_is_a_concurrent_update(catalog_uow) -> None:
    clock = _clock()
    create = books.CreateBook(BookDetails(title="Fathers and Sons"))
    book = await books.create_book(create, uow=catalog_uow(), clock=clock)
    async with catalog_uow() as slow:
        stale = await slow.books.get(book.id)
        winner = books.UpdateBook(book.id, BookDetails(title="Fathers and Children"), ("title",))
        await books.update_book(winner, uow=catalog_uow(), clock=clock)
        assert stale.revise(BookDetails(title="Otsy i deti"), ("title",), now=clock.now())
        with pytest.raises(Conflict) as caught:
            await slow.books.save(stale)
    assert caught.value.reason == CONCURRENT_UPDATE
    fetched = await books.get_book(books.GetBook(book.id), uow=catalog_uow())
    assert (fetched.details.title, fetched.version) == ("Fathers and Children", 2)


async def test_a_block_entered_with_reading_runs_without_a_transaction_and_the_next_one_with(catalog_uow) -> None:
    uow = catalog_uow.with_reading()

    async def in_transaction() -> bool:
        connection = await (await uow.session.connection()).get_raw_connection()
        await uow.session.execute(sa.text("SELECT 1"))
        return bool(connection.driver_connection.is_in_transaction())

    async with uow.reading():
        assert await in_transaction() is False
        with pytest.raises(RuntimeError):
            await uow.commit()
    async with uow:
        assert await in_transaction() is True
