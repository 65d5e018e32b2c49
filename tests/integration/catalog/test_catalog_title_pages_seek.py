"""ListBooks' later pages by title against real Postgres: the same books at the same page boundaries whatever
the page size (equal titles included), and a page's statement that seeks to its cursor in the title index
instead of reading every title before it (findings-scale F5: page 451 took ~7x page 1)."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from services.catalog.app import books, queries
from services.catalog.data.search import list_statement
from services.catalog.domain.books import BookDetails
from services.support.runtime.clock import FixedClock

pytestmark = pytest.mark.integration

# Equal titles, titles equal but for their case or yo, and years shared, so that every key has ties.
TITLES = ["Война", "война", "Война", "Ёж", "еж", "Еж", "apple", "Apple", "apple", "Zebra", "Яблоко", "Война"]
ORDERS = ("title", "title desc", "publication_year, title", "publication_year desc, title", "create_time desc")


async def _walk(catalog_uow, order_by: str, page_size: int) -> list[uuid.UUID]:
    ids, token = [], ""
    while True:
        page = await books.list_books(books.ListBooks(page_size, token, order_by=order_by), uow=catalog_uow())
        ids += [b.id for b in page.items]
        if not (token := page.next_page_token):
            return ids


async def test_pages_of_any_size_list_the_books_of_one_long_page_in_its_order(catalog_uow) -> None:
    clock = FixedClock(datetime(2026, 12, 7, 9, 0, tzinfo=UTC))
    for n, title in enumerate(TITLES * 2):
        clock.advance(timedelta(minutes=1))
        details = BookDetails(title=title, publication_year=1990 + n % 3)
        await books.create_book(books.CreateBook(details), uow=catalog_uow(), clock=clock)
    for order_by in ORDERS:
        whole = await _walk(catalog_uow, order_by, page_size=100)
        assert len(whole) == len(set(whole)) == 2 * len(TITLES)
        for page_size in (1, 2, 3, 5, 7):
            assert await _walk(catalog_uow, order_by, page_size) == whole, (order_by, page_size)


async def _plan(catalog_uow, statement: sa.Select) -> str:
    sql = statement.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True})
    async with catalog_uow.engine.connect() as connection:
        return "\n".join((await connection.execute(sa.text(f"EXPLAIN {sql}"))).scalars())


async def test_a_later_page_by_title_seeks_to_its_cursor_in_the_title_index(catalog_uow) -> None:
    async with catalog_uow.engine.begin() as connection:
        await connection.execute(
            sa.text(
                "INSERT INTO books (id, title, created_at, updated_at, version) "
                "SELECT gen_random_uuid(), 'Title ' || n, now(), now(), 1 FROM generate_series(1, 20000) AS n"
            )
        )
        await connection.execute(sa.text("ANALYZE books"))
    cursor = ("Title 17000", uuid.UUID(int=0))
    plan = await _plan(
        catalog_uow, list_statement(conditions=(), keys=queries.parse_order_by("title"), after=cursor, limit=100)
    )
    assert "books_title_key_id" in plan, plan
    # The title's key (catalog_title_key, inlined by the planner), the title and the id, compared as one row.
    assert re.search(r"Index Cond: \(ROW\(.+, title, id\) > ROW\(", plan), plan
    assert "Filter" not in plan.split("SubPlan")[0], plan  # nothing read only to be thrown away
