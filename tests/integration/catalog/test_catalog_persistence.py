"""Catalog use cases against a real, migrated Postgres."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from services.catalog import handlers
from services.catalog.domain import BookDetails
from services.support.runtime.clock import FixedClock
from services.support.runtime.errors import AlreadyExists, InvalidArgument, NotFound
from services.support.runtime.outbox import OUTBOX

pytestmark = pytest.mark.integration


def _clock() -> FixedClock:
    return FixedClock(datetime(2026, 11, 21, 9, 0, tzinfo=UTC))


async def test_a_created_book_is_persisted_with_its_created_event_in_the_outbox(catalog_uow) -> None:
    book = await handlers.create_book(
        handlers.CreateBook(BookDetails(title="Anna Karenina", isbn="9780143035008")), catalog_uow(), _clock()
    )
    fetched = await handlers.get_book(book.id, catalog_uow())
    assert fetched.details.title == "Anna Karenina"
    assert fetched.total_copies == 0
    async with catalog_uow() as uow:
        subjects = (await uow.session.execute(sa.select(OUTBOX.c.subject, OUTBOX.c.published_at))).all()
    assert subjects == [("athenaeum.catalog.book_created.v1", None)]


async def test_a_retried_create_with_the_same_request_id_returns_the_first_book(catalog_uow) -> None:
    command = handlers.CreateBook(BookDetails(title="War and Peace"), request_id=uuid.uuid4())
    first = await handlers.create_book(command, catalog_uow(), _clock())
    second = await handlers.create_book(command, catalog_uow(), _clock())
    assert second.id == first.id
    page = await handlers.list_books(handlers.ListBooks(), catalog_uow())
    assert page.total_size == 1


async def test_a_duplicate_isbn_is_refused_and_nothing_is_half_written(catalog_uow) -> None:
    await handlers.create_book(
        handlers.CreateBook(BookDetails(title="A", isbn="0-14-118014-5")), catalog_uow(), _clock()
    )
    with pytest.raises(AlreadyExists):
        await handlers.create_book(
            handlers.CreateBook(BookDetails(title="B", isbn="9780141180144"), request_id=uuid.uuid4()),
            catalog_uow(),
            _clock(),
        )
    async with catalog_uow() as uow:
        outbox_rows = await uow.session.scalar(sa.select(sa.func.count()).select_from(OUTBOX))
    assert outbox_rows == 1  # only the first book's event: the refused one left no trace


async def test_a_missing_book_is_not_found(catalog_uow) -> None:
    with pytest.raises(NotFound):
        await handlers.get_book(uuid.uuid4(), catalog_uow())


async def test_pages_are_newest_first_stable_and_complete(catalog_uow) -> None:
    clock = _clock()
    for number in range(5):
        clock.advance(timedelta(minutes=1))
        await handlers.create_book(handlers.CreateBook(BookDetails(title=f"Volume {number}")), catalog_uow(), clock)
    titles, token = [], ""
    while True:
        page = await handlers.list_books(handlers.ListBooks(page_size=2, page_token=token), catalog_uow())
        titles += [book.details.title for book in page.books]
        token = page.next_page_token
        if not token:
            break
    assert titles == [f"Volume {n}" for n in reversed(range(5))]
    assert page.total_size == 5


async def test_a_page_token_from_another_query_is_refused(catalog_uow) -> None:
    for title in ("One", "Two"):
        await handlers.create_book(handlers.CreateBook(BookDetails(title=title)), catalog_uow(), _clock())
    page = await handlers.list_books(handlers.ListBooks(page_size=1), catalog_uow())
    with pytest.raises(InvalidArgument):
        await handlers.list_books(
            handlers.ListBooks(page_size=1, page_token=page.next_page_token, order_by="title"), catalog_uow()
        )
