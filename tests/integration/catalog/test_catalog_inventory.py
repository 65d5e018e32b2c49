"""Copies and circulation against real Postgres: atomic, idempotent, and safe under concurrency."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from services.catalog import handlers
from services.catalog import inventory_handlers as inventory
from services.catalog.domain import Book, BookDetails, CopyStatus
from services.catalog.inventory import CopyDetails
from services.support.runtime.clock import FixedClock
from services.support.runtime.errors import AlreadyExists, FailedPrecondition, NotFound
from services.support.runtime.outbox import OUTBOX

pytestmark = pytest.mark.integration
CLOCK = FixedClock(datetime(2026, 11, 21, 9, 0, tzinfo=UTC))


async def _book_with_copies(uow, count: int, *, branch: str = "MAIN") -> Book:
    book = await handlers.create_book(handlers.CreateBook(BookDetails(title="Dead Souls")), uow(), CLOCK)
    for number in range(count):
        details = CopyDetails(barcode=f"B-{uuid.uuid4().hex[:8]}-{number}", branch=branch)
        await inventory.create_copy(inventory.CreateCopy(book.id, details), uow(), CLOCK)
    return book


def _loan() -> str:
    return f"loans/{uuid.uuid4()}"


async def test_two_loans_racing_for_the_last_copy_never_share_it(catalog_uow) -> None:
    book = await _book_with_copies(catalog_uow, 1)
    loans = [_loan() for _ in range(8)]
    outcomes = await asyncio.gather(
        *(
            inventory.check_out_copy(
                inventory.CopySelector(book_id=book.id), loan=loan, hold="", uow=catalog_uow(), clock=CLOCK
            )
            for loan in loans
        ),
        return_exceptions=True,
    )
    winners = [o for o in outcomes if not isinstance(o, BaseException)]
    assert len(winners) == 1
    assert all(isinstance(o, FailedPrecondition) for o in outcomes if isinstance(o, BaseException))
    assert (await handlers.get_book(book.id, catalog_uow())).available_copies == 0


async def test_the_same_loan_sent_many_times_at_once_takes_one_copy(catalog_uow) -> None:
    book = await _book_with_copies(catalog_uow, 3)
    loan = _loan()
    copies = await asyncio.gather(
        *(
            inventory.check_out_copy(
                inventory.CopySelector(book_id=book.id), loan=loan, hold="", uow=catalog_uow(), clock=CLOCK
            )
            for _ in range(6)
        )
    )
    assert len({c.id for c in copies}) == 1
    assert (await handlers.get_book(book.id, catalog_uow())).available_copies == 2


async def test_concurrent_loans_of_one_copy_by_name_leave_exactly_one_holder(catalog_uow) -> None:
    book = await _book_with_copies(catalog_uow, 1)
    page = await inventory.list_copies(book.id, page_size=0, page_token="", filter="", uow=catalog_uow())
    target = inventory.CopySelector(copy=(book.id, page.copies[0].id))
    outcomes = await asyncio.gather(
        *(inventory.check_out_copy(target, loan=_loan(), hold="", uow=catalog_uow(), clock=CLOCK) for _ in range(5)),
        return_exceptions=True,
    )
    assert sum(not isinstance(o, BaseException) for o in outcomes) == 1


async def test_check_in_is_idempotent_and_announces_availability(catalog_uow) -> None:
    book = await _book_with_copies(catalog_uow, 2)
    loan = _loan()
    copy = await inventory.check_out_copy(
        inventory.CopySelector(book_id=book.id), loan=loan, hold="", uow=catalog_uow(), clock=CLOCK
    )
    assert copy.status == CopyStatus.ON_LOAN and copy.current_loan == loan
    first = await inventory.check_in_copy(book.id, copy.id, loan=loan, hold="", uow=catalog_uow(), clock=CLOCK)
    again = await inventory.check_in_copy(book.id, copy.id, loan=loan, hold="", uow=catalog_uow(), clock=CLOCK)
    assert first.status == again.status == CopyStatus.AVAILABLE
    assert again.version == first.version
    async with catalog_uow() as uow:
        subjects = (await uow.session.scalars(sa.select(OUTBOX.c.subject).order_by(OUTBOX.c.seq))).all()
    assert subjects.count("athenaeum.catalog.copy_status_changed.v1") == 2  # out and back in; the repeat is silent


async def test_a_hold_shelf_copy_goes_only_to_its_own_holds_loan(catalog_uow) -> None:
    book = await _book_with_copies(catalog_uow, 2, branch="EAST")
    hold = f"holds/{uuid.uuid4()}"
    held = await inventory.reserve_copy(book.id, hold=hold, branch="EAST", uow=catalog_uow(), clock=CLOCK)
    assert held == await inventory.reserve_copy(book.id, hold=hold, branch="", uow=catalog_uow(), clock=CLOCK)
    with pytest.raises(FailedPrecondition):
        await inventory.check_out_copy(
            inventory.CopySelector(copy=(book.id, held.id)), loan=_loan(), hold="", uow=catalog_uow(), clock=CLOCK
        )
    lent = await inventory.check_out_copy(
        inventory.CopySelector(copy=(book.id, held.id)), loan=_loan(), hold=hold, uow=catalog_uow(), clock=CLOCK
    )
    assert lent.status == CopyStatus.ON_LOAN and lent.current_hold == ""
    released = await inventory.release_copy(book.id, held.id, hold=hold, uow=catalog_uow(), clock=CLOCK)
    assert released.status == CopyStatus.ON_LOAN  # already fulfilled: releasing changes nothing


async def test_no_available_copy_is_a_failed_precondition_and_no_book_is_not_found(catalog_uow) -> None:
    book = await _book_with_copies(catalog_uow, 0)
    with pytest.raises(FailedPrecondition):
        await inventory.reserve_copy(book.id, hold="holds/h1", branch="", uow=catalog_uow(), clock=CLOCK)
    with pytest.raises(NotFound):
        await inventory.check_out_copy(
            inventory.CopySelector(book_id=uuid.uuid4()), loan=_loan(), hold="", uow=catalog_uow(), clock=CLOCK
        )


async def test_a_book_with_a_copy_on_loan_cannot_be_deleted(catalog_uow) -> None:
    book = await _book_with_copies(catalog_uow, 1)
    loan = _loan()
    copy = await inventory.check_out_copy(
        inventory.CopySelector(book_id=book.id), loan=loan, hold="", uow=catalog_uow(), clock=CLOCK
    )
    with pytest.raises(FailedPrecondition) as caught:
        await handlers.delete_book(handlers.DeleteBook(book.id), catalog_uow(), CLOCK)
    assert caught.value.reason == "COPIES_IN_CIRCULATION"
    await inventory.check_in_copy(book.id, copy.id, loan=loan, hold="", uow=catalog_uow(), clock=CLOCK)
    await handlers.delete_book(handlers.DeleteBook(book.id), catalog_uow(), CLOCK)
    with pytest.raises(NotFound):
        await inventory.get_copy(book.id, copy.id, catalog_uow())


async def test_a_duplicate_barcode_is_already_exists_naming_the_field(catalog_uow) -> None:
    book = await _book_with_copies(catalog_uow, 0)
    await inventory.create_copy(inventory.CreateCopy(book.id, CopyDetails(barcode="DUP-1")), catalog_uow(), CLOCK)
    with pytest.raises(AlreadyExists) as caught:
        await inventory.create_copy(inventory.CreateCopy(book.id, CopyDetails(barcode="DUP-1")), catalog_uow(), CLOCK)
    assert caught.value.metadata["field"] == "copy.barcode"


async def test_availability_is_derived_from_copy_statuses(catalog_uow) -> None:
    book = await _book_with_copies(catalog_uow, 3)
    page = await inventory.list_copies(book.id, page_size=0, page_token="", filter="", uow=catalog_uow())
    lost = page.copies[0]
    update = inventory.UpdateCopy(book.id, lost.id, lost.details, CopyStatus.WITHDRAWN, ("status",))
    await inventory.update_copy(update, catalog_uow(), CLOCK)
    fetched = await handlers.get_book(book.id, catalog_uow())
    assert (fetched.total_copies, fetched.available_copies) == (2, 2)
    withdrawn = await inventory.list_copies(
        book.id, page_size=0, page_token="", filter="status = WITHDRAWN", uow=catalog_uow()
    )
    assert [c.id for c in withdrawn.copies] == [lost.id]
