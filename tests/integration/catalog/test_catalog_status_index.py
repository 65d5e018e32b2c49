"""What the loans reconciler asks of the catalog each minute, against real Postgres: a page of the copies in one
status is read from an index on (status, barcode), not by walking every copy's barcode, and the availability
of many books is one statement."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from services.catalog.app import books, copies
from services.catalog.app.queries import Condition
from services.catalog.data.copies import listing
from services.catalog.domain.books import BookDetails
from services.catalog.domain.copy_values import CopyDetails
from services.support.runtime.clock import FixedClock

pytestmark = pytest.mark.integration
CLOCK = FixedClock(datetime(2026, 12, 7, 9, 0, tzinfo=UTC))
COPIES, ON_LOAN = 20_000, 200


async def _plan(catalog_uow, statement: sa.Select) -> str:
    sql = statement.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True})
    async with catalog_uow.engine.connect() as connection:
        return "\n".join(row[0] for row in (await connection.execute(sa.text(f"EXPLAIN {sql}"))).all())


async def test_a_page_of_the_copies_in_one_status_is_read_from_the_status_index(catalog_uow) -> None:
    book = await books.create_book(books.CreateBook(BookDetails(title="Dead Souls")), uow=catalog_uow(), clock=CLOCK)
    async with catalog_uow.engine.begin() as connection:  # a collection with a few copies out, made by SQL
        await connection.execute(
            sa.text(
                "INSERT INTO copies (id, book_id, barcode, status, created_at, updated_at, version)"
                " SELECT gen_random_uuid(), :book, 'B' || lpad(n::text, 6, '0'),"
                " CASE WHEN n % (:copies / :on_loan) = 0 THEN 'ON_LOAN' ELSE 'AVAILABLE' END, now(), now(), 1"
                " FROM generate_series(1, :copies) AS n"
            ),
            {"book": book.id, "copies": COPIES, "on_loan": ON_LOAN},
        )
        await connection.execute(sa.text("ANALYZE copies"))
    on_loan = (Condition("status", "=", "ON_LOAN"),)
    for after in (None, "B010000"):  # the first page, and one from the middle
        plan = await _plan(catalog_uow, listing(book_id=None, conditions=on_loan, after=after, limit=100))
        assert "copies_status_barcode" in plan, plan
        assert "Seq Scan on copies" not in plan and "Sort" not in plan, plan
    listed, token, pages = 0, "", 0
    while True:
        page = await copies.list_copies(copies.ListCopies(None, 100, token, "status = ON_LOAN"), uow=catalog_uow())
        listed, pages, token = listed + len(page.items), pages + 1, page.next_page_token
        assert page.total_size == ON_LOAN
        if not token:
            break
    assert (listed, pages) == (ON_LOAN, 2)


async def test_the_availability_of_many_books_is_read_at_once(catalog_uow) -> None:
    made = []
    for shelved in (2, 0, 1):
        book = await books.create_book(
            books.CreateBook(BookDetails(title="Dead Souls")), uow=catalog_uow(), clock=CLOCK
        )
        for _ in range(shelved):
            details = CopyDetails(barcode=f"B-{uuid.uuid4().hex[:10]}")
            await copies.create_copy(copies.CreateCopy(book.id, details), uow=catalog_uow(), clock=CLOCK)
        made.append(book.id)
    asked = (*made, uuid.uuid4())
    found = await books.get_availability(books.GetAvailability(asked), uow=catalog_uow.reads())
    assert found == {made[0]: 2, made[1]: 0, made[2]: 1}
    assert await books.get_availability(books.GetAvailability(()), uow=catalog_uow.reads()) == {}
