"""Updates without an etag are the last writer's: twenty at once all succeed, on real Postgres (a couple of
them were refused ABORTED by the version check, which a caller without an etag never asked for)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from services.catalog.app import books, copies
from services.catalog.domain.books import BookDetails
from services.catalog.domain.copy_values import CopyDetails
from services.support.runtime.clock import FixedClock

pytestmark = pytest.mark.integration
CLOCK = FixedClock(datetime(2026, 11, 21, 9, 0, tzinfo=UTC))
AT_ONCE = 20


async def test_twenty_updates_of_a_book_and_of_a_copy_without_an_etag_all_succeed(catalog_uow) -> None:
    book = await books.create_book(books.CreateBook(BookDetails(title="Contested")), uow=catalog_uow(), clock=CLOCK)
    copy = await copies.create_copy(
        copies.CreateCopy(book.id, CopyDetails(barcode="CONTESTED-1")), uow=catalog_uow(), clock=CLOCK
    )

    async def subtitle(n: int) -> object:
        change = books.UpdateBook(book.id, BookDetails(title="", subtitle=f"Take {n}"), ("subtitle",))
        return await books.update_book(change, uow=catalog_uow(), clock=CLOCK)

    async def shelf(n: int) -> object:
        change = copies.UpdateCopy(
            book.id, copy.id, CopyDetails(barcode="", shelf_location=f"S{n}"), None, ("shelf_location",)
        )
        return await copies.update_copy(change, uow=catalog_uow(), clock=CLOCK)

    for update in (subtitle, shelf):
        outcomes = await asyncio.gather(*(update(n) for n in range(AT_ONCE)), return_exceptions=True)
        assert [o for o in outcomes if isinstance(o, BaseException)] == [], update.__name__
    final = await books.get_book(books.GetBook(book.id), uow=catalog_uow())
    assert final.version == 1 + AT_ONCE
