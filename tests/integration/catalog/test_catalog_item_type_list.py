"""The list of item types on real Postgres: kept by admins, refused to copies it does not have, not deleted while
copies have a type, and seeded by its migration from the types copies had."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy.ext.asyncio import create_async_engine

from services.catalog.app import books, copies, item_types
from services.catalog.domain.books import BookDetails
from services.catalog.domain.copy_values import CopyDetails
from services.support.runtime.clock import FixedClock
from services.support.runtime.errors import AlreadyExists, FailedPrecondition, InvalidArgument
from services.support.runtime.migrations import alembic_config, upgrade_to_head

pytestmark = pytest.mark.integration
NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
CLOCK = FixedClock(NOW)


async def test_an_item_type_is_created_listed_revised_and_deleted(catalog_uow) -> None:
    created = await item_types.create_item_type(
        item_types.CreateItemType("dvd", "Films on disc"), uow=catalog_uow(), clock=CLOCK
    )
    with pytest.raises(AlreadyExists):
        await item_types.create_item_type(item_types.CreateItemType("DVD", "Again"), uow=catalog_uow(), clock=CLOCK)
    update = item_types.UpdateItemType("DVD", "", True, ("not_for_loan",), etag=created.etag)
    revised = await item_types.update_item_type(update, uow=catalog_uow(), clock=CLOCK)
    assert (revised.not_for_loan, revised.version) == (True, 2)
    page = await item_types.list_item_types(item_types.ListItemTypes(), uow=catalog_uow.reads())
    assert [(k.code, k.not_for_loan) for k in page.items] == [("BOOK", False), ("DVD", True)]
    await item_types.delete_item_type(item_types.DeleteItemType("DVD", revised.etag), uow=catalog_uow(), clock=CLOCK)
    assert (await item_types.list_item_types(item_types.ListItemTypes(), uow=catalog_uow.reads())).total_size == 1


async def test_a_type_copies_have_is_not_deleted(catalog_uow) -> None:
    await item_types.create_item_type(item_types.CreateItemType("DVD", "Films"), uow=catalog_uow(), clock=CLOCK)
    book = await books.create_book(books.CreateBook(BookDetails(title="Solaris")), uow=catalog_uow(), clock=CLOCK)
    for barcode in ("D-1", "D-2"):
        details = CopyDetails(barcode=barcode, item_type="dvd")
        await copies.create_copy(copies.CreateCopy(book.id, details), uow=catalog_uow(), clock=CLOCK)
    with pytest.raises(FailedPrecondition) as in_use:
        await item_types.delete_item_type(item_types.DeleteItemType("DVD"), uow=catalog_uow(), clock=CLOCK)
    assert in_use.value.reason == "ITEM_TYPE_IN_USE" and "2 copies have it" in in_use.value.message


async def test_a_copy_of_a_type_not_in_the_list_is_refused(catalog_uow) -> None:
    book = await books.create_book(books.CreateBook(BookDetails(title="Solaris")), uow=catalog_uow(), clock=CLOCK)
    with pytest.raises(InvalidArgument) as unknown:
        details = CopyDetails(barcode="B-1", item_type="bok")
        await copies.create_copy(copies.CreateCopy(book.id, details), uow=catalog_uow(), clock=CLOCK)
    assert unknown.value.reason == "UNKNOWN_ITEM_TYPE" and "BOK" in unknown.value.message


async def test_the_migration_seeds_book_and_the_types_copies_have_reference_not_for_loan(postgres) -> None:
    url = await asyncio.to_thread(postgres.fresh_database, "catalog_item_types")
    await asyncio.to_thread(command.upgrade, alembic_config("catalog", url), "0009")
    engine = create_async_engine(url)
    book_id = uuid.uuid4()
    try:
        async with engine.begin() as connection:
            await connection.execute(
                sa.text("INSERT INTO books (id, title, created_at, updated_at, version) VALUES (:id, 't', :t, :t, 1)"),
                {"id": book_id, "t": NOW},
            )
            insert = sa.text(
                "INSERT INTO copies (id, book_id, barcode, item_type, created_at, updated_at, version) "
                "VALUES (:id, :book_id, :barcode, :item_type, :t, :t, 1)"
            )
            for barcode, item_type in (("A", "DVD"), ("B", "REFERENCE"), ("C", "dvd"), ("D", "REFERENCE")):
                row = {"id": uuid.uuid4(), "book_id": book_id, "barcode": barcode, "item_type": item_type, "t": NOW}
                await connection.execute(insert, row)
        await asyncio.to_thread(upgrade_to_head, "catalog", url)
        async with engine.connect() as connection:
            seeded = (await connection.execute(sa.text("SELECT code, description, not_for_loan FROM item_types"))).all()
            spelt = (await connection.execute(sa.text("SELECT DISTINCT item_type FROM copies"))).scalars().all()
        assert sorted(seeded) == [("BOOK", "BOOK", False), ("DVD", "DVD", False), ("REFERENCE", "REFERENCE", True)]
        assert sorted(spelt) == ["DVD", "REFERENCE"]
    finally:
        await engine.dispose()


async def test_reference_copies_are_counted_apart_never_lent_nor_held(catalog_uow) -> None:
    from services.catalog.app import circulation

    kind = item_types.CreateItemType("REF", "Reference", not_for_loan=True)
    await item_types.create_item_type(kind, uow=catalog_uow(), clock=CLOCK)
    book = await books.create_book(books.CreateBook(BookDetails(title="Dictionary")), uow=catalog_uow(), clock=CLOCK)
    for barcode, item_type in (("R-1", "REF"), ("B-1", "BOOK")):
        details = CopyDetails(barcode=barcode, item_type=item_type)
        await copies.create_copy(copies.CreateCopy(book.id, details), uow=catalog_uow(), clock=CLOCK)
    read = await books.get_book(books.GetBook(book.id), uow=catalog_uow.reads())
    assert (read.total_copies, read.available_copies, read.reference_copies) == (2, 1, 1)
    listed = await books.list_books(books.ListBooks(filter="available_copies = 1"), uow=catalog_uow.reads())
    assert [b.id for b in listed.items] == [book.id]
    at_desk = circulation.CheckOutCopy(circulation.CopySelector(barcode="r-1"), loan="loans/l-1")
    with pytest.raises(FailedPrecondition) as refused:
        await circulation.check_out_copy(at_desk, uow=catalog_uow.circulation(), clock=CLOCK)
    assert refused.value.reason == "NOT_FOR_LOAN"
    hold = circulation.ReserveCopy(book.id, hold="holds/h-1")
    held = await circulation.reserve_copy(hold, uow=catalog_uow.circulation(), clock=CLOCK)
    assert held.details.barcode == "B-1"
    by_book = circulation.CheckOutCopy(circulation.CopySelector(book_id=book.id), loan="loans/l-2")
    with pytest.raises(FailedPrecondition):  # only the reference copy is left on the shelf
        await circulation.check_out_copy(by_book, uow=catalog_uow.circulation(), clock=CLOCK)
    update = item_types.UpdateItemType("REF", "", False, ("not_for_loan",))
    await item_types.update_item_type(update, uow=catalog_uow(), clock=CLOCK)
    lent = await circulation.check_out_copy(by_book, uow=catalog_uow.circulation(), clock=CLOCK)
    assert lent.details.barcode == "R-1" and lent.status.value == "ON_LOAN"
