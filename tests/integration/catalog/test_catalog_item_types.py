"""A check-out by book and a reservation pick, on real Postgres, only a copy of the item types the loans
service asks for (those the patron may borrow or hold)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from services.catalog.api.convert import copy_to_proto
from services.catalog.app import books, circulation, copies, item_types
from services.catalog.domain.books import Book, BookDetails
from services.catalog.domain.copies import Copy
from services.catalog.domain.copy_values import CopyDetails, CopyStatus
from services.catalog.domain.item_types import ANY_ITEM_TYPE, ItemTypeFilter
from services.support.runtime.clock import FixedClock
from services.support.runtime.errors import FailedPrecondition

pytestmark = pytest.mark.integration
CLOCK = FixedClock(datetime(2026, 11, 21, 9, 0, tzinfo=UTC))


async def _book(uow, *types: str) -> Book:
    """A book with a copy of each item type, their barcodes in that order (the order copies are picked in).
    REFERENCE and DVD are defined here as types that may be lent: the loans service's rules leave them out."""
    for code in ("REFERENCE", "DVD"):
        command = item_types.CreateItemType(code, code, not_for_loan=False)
        await item_types.create_item_type(command, uow=uow(), clock=CLOCK)
    book = await books.create_book(books.CreateBook(BookDetails(title="Mixed T")), uow=uow(), clock=CLOCK)
    for number, item_type in enumerate(types):
        details = CopyDetails(barcode=f"T{number}-{uuid.uuid4().hex[:8]}", item_type=item_type)
        await copies.create_copy(copies.CreateCopy(book.id, details), uow=uow(), clock=CLOCK)
    return book


async def _check_out(uow, book: Book, item_types: ItemTypeFilter) -> Copy:
    command = circulation.CheckOutCopy(
        circulation.CopySelector(book_id=book.id), loan=f"loans/{uuid.uuid4()}", item_types=item_types
    )
    return await circulation.check_out_copy(command, uow=uow.circulation(), clock=CLOCK)


async def _reserve(uow, book: Book, item_types: ItemTypeFilter = ANY_ITEM_TYPE) -> Copy:
    command = circulation.ReserveCopy(book.id, hold=f"holds/{uuid.uuid4()}", item_types=item_types)
    return await circulation.reserve_copy(command, uow=uow.circulation(), clock=CLOCK)


async def test_a_check_out_by_book_passes_over_copies_of_item_types_left_out(catalog_uow) -> None:
    book = await _book(catalog_uow, "REFERENCE", "book", "DVD")
    lent = await _check_out(catalog_uow, book, ItemTypeFilter.of(excluded=["REFERENCE"]))
    assert (lent.details.item_type, lent.status) == ("BOOK", CopyStatus.ON_LOAN)
    assert (await _check_out(catalog_uow, book, ItemTypeFilter.of(only=["DVD"]))).details.item_type == "DVD"
    with pytest.raises(FailedPrecondition) as none:
        await _check_out(catalog_uow, book, ItemTypeFilter.of(only=["BOOK", "DVD"]))
    assert none.value.reason == "NO_COPY_AVAILABLE"  # the REFERENCE copy is still on the shelf


async def test_a_reservation_sets_aside_only_a_copy_of_the_item_types_asked_for(catalog_uow) -> None:
    book = await _book(catalog_uow, "REFERENCE", "BOOK")
    held = await _reserve(catalog_uow, book, ItemTypeFilter.of(only=["REFERENCE"]))
    assert (held.details.item_type, held.status) == ("REFERENCE", CopyStatus.IN_TRANSIT)  # on the pull list
    with pytest.raises(FailedPrecondition) as none:
        await _reserve(catalog_uow, book, ItemTypeFilter.of(excluded=["REFERENCE", "BOOK"]))
    assert "other than BOOK, REFERENCE" in none.value.message
    assert (await _reserve(catalog_uow, book)).details.item_type == "BOOK"


async def test_a_copy_held_before_its_type_was_made_not_for_loan_goes_to_its_reader_then_stays(catalog_uow) -> None:
    """Findings-second F6 and F7 on the real statements: each read says not_for_loan; the hold's reader borrows
    the copy set aside before the change; back, it is set aside for no other hold."""
    code = f"MAG{uuid.uuid4().hex[:8]}".upper()
    await item_types.create_item_type(item_types.CreateItemType(code, "Magazines"), uow=catalog_uow(), clock=CLOCK)
    book = await _book(catalog_uow, code)
    held = await _reserve(catalog_uow, book)
    await circulation.shelve_held_copy(
        circulation.ShelveHeldCopy(book.id, held.id, held.current_hold), uow=catalog_uow.circulation(), clock=CLOCK
    )
    update = item_types.UpdateItemType(code, "", True, ("not_for_loan",))
    await item_types.update_item_type(update, uow=catalog_uow(), clock=CLOCK)
    listed = await copies.list_copies(copies.ListCopies(book.id), uow=catalog_uow())
    assert [copy.not_for_loan for copy in listed.items] == [True]
    loan = f"loans/{uuid.uuid4()}"
    lend = circulation.CheckOutCopy(circulation.CopySelector(barcode=held.details.barcode), loan, held.current_hold)
    lent = await circulation.check_out_copy(lend, uow=catalog_uow.circulation(), clock=CLOCK)
    assert lent.status == CopyStatus.ON_LOAN
    back = circulation.CheckInCopy(book.id, held.id, loan, hold=f"holds/{uuid.uuid4()}")
    returned = await circulation.check_in_copy(back, uow=catalog_uow.circulation(), clock=CLOCK)
    assert (returned.status, returned.current_hold) == (CopyStatus.AVAILABLE, "")


async def test_a_copy_of_a_renamed_type_says_when_its_type_took_the_code_in_its_check_out(catalog_uow) -> None:
    """The loans service lends such a copy only by rules that followed the rename (NF1): it needs the time."""
    book = await _book(catalog_uow, "DVD", "BOOK")
    renamed_at = datetime(2026, 11, 21, 9, 30, tzinfo=UTC)
    rename = item_types.RenameItemType("DVD", "VIDEO")
    renamed = await item_types.rename_item_type(rename, uow=catalog_uow(), clock=FixedClock(renamed_at))
    assert renamed.renamed_at == renamed_at
    lent = await _check_out(catalog_uow, book, ItemTypeFilter.of(only=["VIDEO"]))
    assert (lent.details.item_type, lent.item_type_renamed_at) == ("VIDEO", renamed_at)
    assert copy_to_proto(lent).item_type_rename_time.ToDatetime(tzinfo=UTC) == renamed_at
    never = await _check_out(catalog_uow, book, ItemTypeFilter.of(only=["BOOK"]))
    assert never.item_type_renamed_at is None and not copy_to_proto(never).HasField("item_type_rename_time")
