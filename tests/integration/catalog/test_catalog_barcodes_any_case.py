"""A barcode is one label whatever its letter case, on real Postgres: look-ups and check-outs find the copy
in either case, a second copy differing only in case is refused, the stored barcode keeps its case; and the
migration that brings the rule stops, changing nothing, on a catalog that already has such twins."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy.ext.asyncio import create_async_engine

from services.catalog.app import books, circulation, copies
from services.catalog.domain.books import BookDetails
from services.catalog.domain.copy_values import CopyDetails, CopyStatus
from services.support.runtime.clock import FixedClock
from services.support.runtime.errors import AlreadyExists
from services.support.runtime.migrations import alembic_config, upgrade_to_head

pytestmark = pytest.mark.integration
CLOCK_NOW = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)
CLOCK = FixedClock(CLOCK_NOW)


async def _book_with(uow, barcode: str) -> tuple[uuid.UUID, uuid.UUID]:
    book = await books.create_book(books.CreateBook(BookDetails(title="Dead Souls")), uow=uow(), clock=CLOCK)
    copy = await copies.create_copy(copies.CreateCopy(book.id, CopyDetails(barcode=barcode)), uow=uow(), clock=CLOCK)
    return book.id, copy.id


async def test_a_barcode_is_found_in_any_letter_case_and_keeps_the_case_it_was_given(catalog_uow) -> None:
    _, copy_id = await _book_with(catalog_uow, "Kx-002")
    for scanned in ("kx-002", "KX-002", "Kx-002"):
        found = await copies.lookup_copy(copies.LookupCopy(scanned), uow=catalog_uow.reads())
        assert (found.id, found.details.barcode) == (copy_id, "Kx-002")
    selector = circulation.CopySelector(barcode="kX-002")
    loan = f"loans/{uuid.uuid4()}"
    out = await circulation.check_out_copy(
        circulation.CheckOutCopy(selector, loan=loan), uow=catalog_uow.circulation(), clock=CLOCK
    )
    assert (out.id, out.status, out.current_loan, out.details.barcode) == (copy_id, CopyStatus.ON_LOAN, loan, "Kx-002")


async def test_a_copy_whose_barcode_differs_only_in_case_is_refused(catalog_uow) -> None:
    book_id, _ = await _book_with(catalog_uow, "K-002")
    with pytest.raises(AlreadyExists) as taken:
        await copies.create_copy(
            copies.CreateCopy(book_id, CopyDetails(barcode="k-002")), uow=catalog_uow(), clock=CLOCK
        )
    assert taken.value.reason == "BARCODE_TAKEN" and "letter case" in taken.value.message
    other = await copies.create_copy(
        copies.CreateCopy(book_id, CopyDetails(barcode="k-003")), uow=catalog_uow(), clock=CLOCK
    )
    with pytest.raises(AlreadyExists):  # nor may an update make one
        update = copies.UpdateCopy(book_id, other.id, CopyDetails(barcode="K-002"), None, ("barcode",))
        await copies.update_copy(update, uow=catalog_uow(), clock=CLOCK)


async def test_the_migration_stops_on_case_twins_naming_them_and_changes_nothing(postgres) -> None:
    url = await asyncio.to_thread(postgres.fresh_database, "catalog_twins")
    await asyncio.to_thread(command.upgrade, alembic_config("catalog", url), "0006")
    engine = create_async_engine(url)
    book_id, first, second = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    row = {"created_at": CLOCK_NOW, "updated_at": CLOCK_NOW, "version": 1, "book_id": book_id}
    try:
        async with engine.begin() as connection:
            await connection.execute(
                sa.text("INSERT INTO books (id, title, created_at, updated_at, version) VALUES (:id, 't', :t, :t, 1)"),
                {"id": book_id, "t": CLOCK_NOW},
            )
            insert = sa.text(
                "INSERT INTO copies (id, book_id, barcode, created_at, updated_at, version) "
                "VALUES (:id, :book_id, :barcode, :created_at, :updated_at, :version)"
            )
            for copy_id, barcode in ((first, "K002"), (second, "k002"), (uuid.uuid4(), "A001")):
                await connection.execute(insert, {**row, "id": copy_id, "barcode": barcode})
        with pytest.raises(Exception, match="differ only in letter case") as stopped:
            await asyncio.to_thread(upgrade_to_head, "catalog", url)
        assert f"K002 (books/{book_id}/copies/{first})" in str(stopped.value)
        assert f"k002 (books/{book_id}/copies/{second})" in str(stopped.value)
        async with engine.begin() as connection:
            assert await connection.scalar(sa.text("SELECT version_num FROM alembic_version")) == "0006"
            # the library relabels one of them
            await connection.execute(sa.text("UPDATE copies SET barcode = 'K002-B' WHERE id = :id"), {"id": second})
        await asyncio.to_thread(upgrade_to_head, "catalog", url)
        async with engine.connect() as connection:
            assert await connection.scalar(sa.text("SELECT version_num FROM alembic_version")) != "0006"
            assert (await connection.scalar(sa.text("SELECT count(*) FROM copies"))) == 3
    finally:
        await engine.dispose()
