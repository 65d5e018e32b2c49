"""ListBooks by title against real Postgres: alphabetical whatever the letter case, yo filed with ye, pages
resuming where they stopped in either direction."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.catalog.app import books
from services.catalog.domain.books import BookDetails
from services.support.runtime.clock import FixedClock

pytestmark = pytest.mark.integration

# Sorted by code point (as before): Zebra, apple, Ёж, Яблоко, жук, ёлка, and "Война" before "вечер".
TITLES = ["Яблоко", "apple", "жук", "Zebra", "ёлка", "Ёж", "вечер", "Война", "Apple"]
ALPHABETICAL = ["Apple", "apple", "Zebra", "вечер", "Война", "Ёж", "ёлка", "жук", "Яблоко"]


async def _titles(catalog_uow, order_by: str, page_size: int) -> list[str]:
    titles, token = [], ""
    while True:
        page = await books.list_books(books.ListBooks(page_size, token, order_by=order_by), uow=catalog_uow())
        titles += [b.details.title for b in page.items]
        if not (token := page.next_page_token):
            return titles


async def test_titles_are_listed_in_alphabetical_order_page_after_page(catalog_uow) -> None:
    """`order_by=title` sorted by code points: every capitalised title before every lower-case one, Cyrillic
    upper case before lower case, and Ё after Я."""
    clock = FixedClock(datetime(2026, 12, 6, 9, 0, tzinfo=UTC))
    for title in TITLES:
        clock.advance(timedelta(minutes=1))
        await books.create_book(books.CreateBook(BookDetails(title=title)), uow=catalog_uow(), clock=clock)
    assert await _titles(catalog_uow, "title", page_size=100) == ALPHABETICAL
    assert await _titles(catalog_uow, "title", page_size=2) == ALPHABETICAL
    assert await _titles(catalog_uow, "title desc", page_size=2) == ALPHABETICAL[::-1]
