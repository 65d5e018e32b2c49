"""Copies of a not-for-loan item type (reference copies): counted apart from a book's available copies, never
lent, never set aside for a hold, whatever item types circulation asks for."""

from datetime import UTC, datetime

import pytest

from services.catalog.api import convert
from services.catalog.app import books, circulation, copies, item_types
from services.catalog.domain.books import Book, BookDetails
from services.catalog.domain.copies import Copy
from services.catalog.domain.copy_events import CopyStatusChanged
from services.catalog.domain.copy_values import CopyDetails, CopyStatus
from services.catalog.domain.item_types import ItemType
from services.support.runtime.clock import FixedClock
from services.support.runtime.errors import FailedPrecondition
from tests.unit.catalog.fakes import FakeCatalog

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
CLOCK = FixedClock(NOW)


@pytest.fixture
def catalog() -> FakeCatalog:
    catalog = FakeCatalog()
    catalog.state.item_types["REFERENCE"] = ItemType("REFERENCE", "Reference", True, created_at=NOW, updated_at=NOW)
    return catalog


def _book(catalog: FakeCatalog, *types: str) -> tuple[Book, list[Copy]]:
    """A book with an AVAILABLE copy of each type; barcodes in that order (A-0 first: picked first)."""
    book = Book.register(BookDetails(title="Dictionary"), now=NOW)
    catalog.state.books[book.id] = book
    made = []
    for n, item_type in enumerate(types):
        copy = Copy.register(book.id, CopyDetails(f"A-{n}", item_type=item_type), now=NOW, status=CopyStatus.AVAILABLE)
        catalog.state.copies[copy.id] = copy
        made.append(copy)
    return book, made


async def test_a_book_counts_its_reference_copies_apart_from_those_available_for_loan(catalog) -> None:
    """The reader's page said "2 available" when one of them could not leave the building."""
    book, _ = _book(catalog, "REFERENCE", "BOOK")
    read = await books.get_book(books.GetBook(book.id), uow=catalog())
    assert (read.total_copies, read.available_copies, read.reference_copies) == (2, 1, 1)


async def test_a_reference_copy_is_refused_at_the_desk_with_not_for_loan(catalog) -> None:
    _, (reference,) = _book(catalog, "REFERENCE")
    command = circulation.CheckOutCopy(circulation.CopySelector(barcode="A-0"), "loans/l-1")
    with pytest.raises(FailedPrecondition) as refused:
        await circulation.check_out_copy(command, uow=catalog(), clock=CLOCK)
    assert refused.value.reason == "NOT_FOR_LOAN" and "not for loan" in refused.value.message
    assert catalog.state.copies[reference.id].status == CopyStatus.AVAILABLE


async def test_a_check_out_by_book_and_a_hold_pass_over_reference_copies_unasked(catalog) -> None:
    book, (_, lendable) = _book(catalog, "REFERENCE", "BOOK")
    held = await circulation.reserve_copy(circulation.ReserveCopy(book.id, "holds/h-1"), uow=catalog(), clock=CLOCK)
    assert held.id == lendable.id
    with pytest.raises(FailedPrecondition) as none:
        command = circulation.CheckOutCopy(circulation.CopySelector(book_id=book.id), "loans/l-2")
        await circulation.check_out_copy(command, uow=catalog(), clock=CLOCK)
    assert none.value.reason == "NO_COPY_AVAILABLE"


async def test_a_status_event_announces_only_the_copies_that_may_be_lent(catalog) -> None:
    _, (_, lendable) = _book(catalog, "REFERENCE", "BOOK")
    command = circulation.CheckOutCopy(circulation.CopySelector(barcode=lendable.details.barcode), "loans/l-1")
    await circulation.check_out_copy(command, uow=catalog(), clock=CLOCK)
    (moved,) = catalog.events(CopyStatusChanged)
    assert moved.available_copies == 0  # the reference copy on the shelf does not fill a hold


async def test_a_type_made_not_for_loan_moves_its_copies_out_of_the_available_ones_at_once(catalog) -> None:
    book, _ = _book(catalog, "BOOK", "BOOK")
    update = item_types.UpdateItemType("BOOK", "", True, ("not_for_loan",))
    await item_types.update_item_type(update, uow=catalog(), clock=CLOCK)
    read = await books.get_book(books.GetBook(book.id), uow=catalog())
    assert (read.available_copies, read.reference_copies) == (0, 2)


async def test_a_copy_says_whether_it_is_not_for_loan_from_its_creation_on(catalog) -> None:
    """Loans refuses a hold on a title whose only copies are reference ones by what the copies say."""
    book, _ = _book(catalog)
    create = copies.CreateCopy(book.id, CopyDetails("R-1", item_type="REFERENCE"))
    created = await copies.create_copy(create, uow=catalog(), clock=CLOCK)
    assert created.not_for_loan and convert.copy_to_proto(created).not_for_loan
    listed = await copies.list_copies(copies.ListCopies(book.id), uow=catalog())
    assert [convert.copy_to_proto(copy).not_for_loan for copy in listed.items] == [True]


async def _held_then_made_not_for_loan(catalog: FakeCatalog) -> tuple[Book, Copy]:
    """A BOOK copy on the hold shelf for holds/h-1 (the reader told to come), then BOOK made not for loan."""
    book, (copy,) = _book(catalog, "BOOK")
    await circulation.reserve_copy(circulation.ReserveCopy(book.id, "holds/h-1"), uow=catalog(), clock=CLOCK)
    shelve = circulation.ShelveHeldCopy(book.id, copy.id, "holds/h-1")
    await circulation.shelve_held_copy(shelve, uow=catalog(), clock=CLOCK)
    update = item_types.UpdateItemType("BOOK", "", True, ("not_for_loan",))
    await item_types.update_item_type(update, uow=catalog(), clock=CLOCK)
    return book, copy


@pytest.mark.parametrize("selector", ["barcode", "book"])
async def test_a_copy_set_aside_before_its_type_was_made_not_for_loan_is_still_lent_to_its_hold(
    catalog, selector: str
) -> None:
    """The desk answered NOT_FOR_LOAN to the reader it had told to come for the copy."""
    book, copy = await _held_then_made_not_for_loan(catalog)
    chosen = (
        circulation.CopySelector(barcode="A-0") if selector == "barcode" else circulation.CopySelector(book_id=book.id)
    )
    lent = await circulation.check_out_copy(
        circulation.CheckOutCopy(chosen, "loans/l-1", "holds/h-1"), uow=catalog(), clock=CLOCK
    )
    assert lent.id == copy.id and catalog.state.copies[copy.id].status == CopyStatus.ON_LOAN


async def test_a_copy_made_not_for_loan_on_the_hold_shelf_is_lent_to_nobody_else_and_stays_once_released(
    catalog,
) -> None:
    book, copy = await _held_then_made_not_for_loan(catalog)
    with pytest.raises(FailedPrecondition) as refused:
        command = circulation.CheckOutCopy(circulation.CopySelector(barcode="A-0"), "loans/l-2")
        await circulation.check_out_copy(command, uow=catalog(), clock=CLOCK)
    assert refused.value.reason == "NOT_FOR_LOAN"
    release = circulation.ReleaseCopy(book.id, copy.id, "holds/h-1")
    await circulation.release_copy(release, uow=catalog(), clock=CLOCK)
    with pytest.raises(FailedPrecondition) as not_again:
        await circulation.reserve_copy(circulation.ReserveCopy(book.id, "holds/h-2"), uow=catalog(), clock=CLOCK)
    assert not_again.value.reason in ("NOT_FOR_LOAN", "NO_COPY_AVAILABLE")
    read = await books.get_book(books.GetBook(book.id), uow=catalog())
    assert (read.available_copies, read.reference_copies) == (0, 1)


async def test_a_copy_back_from_loan_after_its_type_was_made_not_for_loan_is_set_aside_for_no_hold(catalog) -> None:
    book, copy = await _held_then_made_not_for_loan(catalog)
    lend = circulation.CheckOutCopy(circulation.CopySelector(barcode="A-0"), "loans/l-1", "holds/h-1")
    await circulation.check_out_copy(lend, uow=catalog(), clock=CLOCK)
    back = circulation.CheckInCopy(book.id, copy.id, "loans/l-1", hold="holds/h-2")
    returned = await circulation.check_in_copy(back, uow=catalog(), clock=CLOCK)
    assert (returned.status, returned.current_hold) == (CopyStatus.AVAILABLE, "")
