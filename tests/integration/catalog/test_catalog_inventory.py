"""Copies and circulation against real Postgres: atomic, idempotent, and safe under concurrency."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from services.catalog.app import books, circulation, copies
from services.catalog.domain.books import Book, BookDetails
from services.catalog.domain.copies import BarcodeNotFound, Copy, CopyNotFound
from services.catalog.domain.copy_values import CopyDetails, CopyStatus
from services.support.runtime.clock import FixedClock
from services.support.runtime.conflicts import CONCURRENT_UPDATE
from services.support.runtime.errors import AlreadyExists, Conflict, FailedPrecondition, NotFound
from services.support.runtime.outbox import OUTBOX

pytestmark = pytest.mark.integration
CLOCK = FixedClock(datetime(2026, 11, 21, 9, 0, tzinfo=UTC))


async def _book_with_copies(uow, count: int, *, branch: str = "MAIN") -> Book:
    details = BookDetails(title="Dead Souls", language="ru")
    book = await books.create_book(books.CreateBook(details), uow=uow(), clock=CLOCK)
    for number in range(count):
        details = CopyDetails(barcode=f"B-{uuid.uuid4().hex[:8]}-{number}", branch=branch)
        await copies.create_copy(copies.CreateCopy(book.id, details), uow=uow(), clock=CLOCK)
    return book


async def _check_out(uow, selector: circulation.CopySelector, loan: str, hold: str = "") -> Copy:
    command = circulation.CheckOutCopy(selector, loan=loan, hold=hold)
    return await circulation.check_out_copy(command, uow=uow.circulation(), clock=CLOCK)


async def _check_in(uow, copy: Copy, loan: str) -> Copy:
    command = circulation.CheckInCopy(copy.book_id, copy.id, loan=loan)
    return await circulation.check_in_copy(command, uow=uow.circulation(), clock=CLOCK)


async def _available(uow, book: Book) -> int:
    return (await books.get_book(books.GetBook(book.id), uow=uow())).available_copies


async def _copies_of(uow, book: Book, filter: str = "") -> list[Copy]:
    return (await copies.list_copies(copies.ListCopies(book.id, filter=filter), uow=uow())).items


def _loan() -> str:
    return f"loans/{uuid.uuid4()}"


async def test_two_loans_racing_for_the_last_copy_never_share_it(catalog_uow) -> None:
    book = await _book_with_copies(catalog_uow, 1)
    loans = [_loan() for _ in range(8)]
    outcomes = await asyncio.gather(
        *(_check_out(catalog_uow, circulation.CopySelector(book_id=book.id), loan) for loan in loans),
        return_exceptions=True,
    )
    winners = [o for o in outcomes if not isinstance(o, BaseException)]
    assert len(winners) == 1
    assert all(isinstance(o, FailedPrecondition) for o in outcomes if isinstance(o, BaseException))
    assert await _available(catalog_uow, book) == 0


async def test_the_same_loan_sent_many_times_at_once_takes_one_copy(catalog_uow) -> None:
    book = await _book_with_copies(catalog_uow, 3)
    loan = _loan()
    copies = await asyncio.gather(
        *(_check_out(catalog_uow, circulation.CopySelector(book_id=book.id), loan) for _ in range(6))
    )
    assert len({c.id for c in copies}) == 1
    assert await _available(catalog_uow, book) == 2


async def test_concurrent_loans_of_one_copy_by_name_leave_exactly_one_holder(catalog_uow) -> None:
    book = await _book_with_copies(catalog_uow, 1)
    (only,) = await _copies_of(catalog_uow, book)
    target = circulation.CopySelector(copy=(book.id, only.id))
    outcomes = await asyncio.gather(
        *(_check_out(catalog_uow, target, _loan()) for _ in range(5)),
        return_exceptions=True,
    )
    assert sum(not isinstance(o, BaseException) for o in outcomes) == 1


async def test_check_in_is_idempotent_and_announces_availability(catalog_uow) -> None:
    book = await _book_with_copies(catalog_uow, 2)
    loan = _loan()
    copy = await _check_out(catalog_uow, circulation.CopySelector(book_id=book.id), loan)
    assert copy.status == CopyStatus.ON_LOAN and copy.current_loan == loan
    first = await _check_in(catalog_uow, copy, loan)
    again = await _check_in(catalog_uow, copy, loan)
    assert first.status == again.status == CopyStatus.AVAILABLE
    assert again.version == first.version
    async with catalog_uow() as uow:
        subjects = (await uow.session.scalars(sa.select(OUTBOX.c.subject).order_by(OUTBOX.c.seq))).all()
    assert subjects.count("athenaeum.catalog.copy_status_changed.v1") == 2  # out and back in; the repeat is silent


async def test_a_hold_shelf_copy_goes_only_to_its_own_holds_loan(catalog_uow) -> None:
    book = await _book_with_copies(catalog_uow, 2, branch="EAST")
    hold = f"holds/{uuid.uuid4()}"
    reserve = circulation.ReserveCopy(book.id, hold=hold, branch="EAST")
    held = await circulation.reserve_copy(reserve, uow=catalog_uow.circulation(), clock=CLOCK)
    again = circulation.ReserveCopy(book.id, hold=hold)
    assert held == await circulation.reserve_copy(again, uow=catalog_uow.circulation(), clock=CLOCK)
    with pytest.raises(FailedPrecondition):
        await _check_out(catalog_uow, circulation.CopySelector(copy=(book.id, held.id)), _loan())
    lent = await _check_out(catalog_uow, circulation.CopySelector(copy=(book.id, held.id)), _loan(), hold=hold)
    assert lent.status == CopyStatus.ON_LOAN and lent.current_hold == ""
    release = circulation.ReleaseCopy(book.id, held.id, hold=hold)
    released = await circulation.release_copy(release, uow=catalog_uow.circulation(), clock=CLOCK)
    assert released.status == CopyStatus.ON_LOAN  # already fulfilled: releasing changes nothing


async def test_no_available_copy_is_a_failed_precondition_and_no_book_is_not_found(catalog_uow) -> None:
    book = await _book_with_copies(catalog_uow, 0)
    with pytest.raises(FailedPrecondition):
        reserve = circulation.ReserveCopy(book.id, hold="holds/h1")
        await circulation.reserve_copy(reserve, uow=catalog_uow.circulation(), clock=CLOCK)
    with pytest.raises(NotFound):
        await _check_out(catalog_uow, circulation.CopySelector(book_id=uuid.uuid4()), _loan())


async def test_a_book_with_a_copy_on_loan_cannot_be_deleted(catalog_uow) -> None:
    book = await _book_with_copies(catalog_uow, 1)
    loan = _loan()
    copy = await _check_out(catalog_uow, circulation.CopySelector(book_id=book.id), loan)
    with pytest.raises(FailedPrecondition) as caught:
        await books.delete_book(books.DeleteBook(book.id), uow=catalog_uow(), clock=CLOCK)
    assert caught.value.reason == "COPIES_IN_CIRCULATION"
    await _check_in(catalog_uow, copy, loan)
    await books.delete_book(books.DeleteBook(book.id), uow=catalog_uow(), clock=CLOCK)
    with pytest.raises(NotFound):
        await copies.get_copy(copies.GetCopy(book.id, copy.id), uow=catalog_uow())


async def test_a_duplicate_barcode_is_already_exists_naming_the_field(catalog_uow) -> None:
    book = await _book_with_copies(catalog_uow, 0)
    create = copies.CreateCopy(book.id, CopyDetails(barcode="DUP-1"))
    await copies.create_copy(create, uow=catalog_uow(), clock=CLOCK)
    with pytest.raises(AlreadyExists) as caught:
        await copies.create_copy(create, uow=catalog_uow(), clock=CLOCK)
    assert caught.value.metadata["field"] == "copy.barcode"


async def test_availability_is_derived_from_copy_statuses(catalog_uow) -> None:
    book = await _book_with_copies(catalog_uow, 3)
    lost = (await _copies_of(catalog_uow, book))[0]
    update = copies.UpdateCopy(book.id, lost.id, lost.details, CopyStatus.WITHDRAWN, ("status",))
    await copies.update_copy(update, uow=catalog_uow(), clock=CLOCK)
    fetched = await books.get_book(books.GetBook(book.id), uow=catalog_uow())
    assert (fetched.total_copies, fetched.available_copies) == (2, 2)
    withdrawn = await _copies_of(catalog_uow, book, "status = WITHDRAWN")
    assert [c.id for c in withdrawn] == [lost.id]


async def test_a_check_out_by_barcode_for_a_loan_that_has_a_copy_answers_that_copy(catalog_uow) -> None:
    """The copy out on the loan and the barcode's copy are read together: the loan's own copy wins, the
    other stays on the shelf, and a barcode nobody has is NotFound."""
    book = await _book_with_copies(catalog_uow, 2)
    first, second = await _copies_of(catalog_uow, book)
    loan = _loan()
    taken = await _check_out(catalog_uow, circulation.CopySelector(barcode=first.details.barcode), loan)
    again = await _check_out(catalog_uow, circulation.CopySelector(barcode=second.details.barcode), loan)
    assert taken.id == again.id == first.id
    assert [c.id for c in await _copies_of(catalog_uow, book, "status = AVAILABLE")] == [second.id]
    with pytest.raises(BarcodeNotFound):
        await _check_out(catalog_uow, circulation.CopySelector(barcode="NOBODY-HAS-THIS"), _loan())


@pytest.mark.parametrize("transaction", ["session", "driver"])
async def test_saving_a_copy_answers_its_books_availability_after_the_change(catalog_uow, transaction) -> None:
    """One statement writes the copy and counts: the changed copy by its new status, the others as this
    transaction left them (in a session's transaction and in the driver's own)."""
    book = await _book_with_copies(catalog_uow, 3)
    first, second, _ = await _copies_of(catalog_uow, book)
    loan = _loan()
    unit = catalog_uow if transaction == "session" else catalog_uow.circulation
    async with unit() as uow:
        taken = await uow.copies.get(book.id, first.id, for_update=True)
        taken.check_out(loan, now=CLOCK.now())
        assert await uow.copies.save(taken) == 2
        lost = await uow.copies.get(book.id, second.id, for_update=True)
        lost.revise(lost.details, CopyStatus.LOST, ("status",), now=CLOCK.now())
        assert await uow.copies.save(lost) == 1
        await uow.commit()
    assert await _available(catalog_uow, book) == 1
    async with unit() as uow:
        back = await uow.copies.get(book.id, first.id, for_update=True)
        back.check_in(loan, now=CLOCK.now())
        assert await uow.copies.save(back) == 2
        await uow.commit()
    assert await _available(catalog_uow, book) == 2


async def test_a_cataloguers_update_that_raced_a_check_out_is_a_concurrent_update(catalog_uow) -> None:
    book = await _book_with_copies(catalog_uow, 1)
    (copy,) = await _copies_of(catalog_uow, book)
    async with catalog_uow() as slow:
        stale = await slow.copies.get(book.id, copy.id)
        await _check_out(catalog_uow, circulation.CopySelector(copy=(book.id, copy.id)), _loan())
        stale.revise(stale.details, CopyStatus.LOST, ("status",), now=CLOCK.now())  # AVAILABLE when it was read
        with pytest.raises(Conflict) as caught:
            await slow.copies.save(stale)
    assert caught.value.reason == CONCURRENT_UPDATE
    (after,) = await _copies_of(catalog_uow, book)
    assert after.status == CopyStatus.ON_LOAN


async def test_a_check_out_answers_the_book_title_by_any_selector_and_again_for_the_same_loan(catalog_uow) -> None:
    book = await _book_with_copies(catalog_uow, 3)
    first, second, third = await _copies_of(catalog_uow, book)
    loan = _loan()
    by_book = await _check_out(catalog_uow, circulation.CopySelector(book_id=book.id), loan)
    repeated = await _check_out(catalog_uow, circulation.CopySelector(book_id=book.id), loan)
    by_barcode = await _check_out(catalog_uow, circulation.CopySelector(barcode=second.details.barcode), _loan())
    by_name = await _check_out(catalog_uow, circulation.CopySelector(copy=(book.id, third.id)), _loan())
    assert {(c.book_title, c.book_language) for c in (by_book, repeated, by_barcode, by_name)} == {("Dead Souls", "ru")}
    assert repeated.id == by_book.id
    looked_up = await copies.lookup_copy(copies.LookupCopy(first.details.barcode), uow=catalog_uow())
    assert (looked_up.book_title, looked_up.book_language) == ("Dead Souls", "ru")  # what lists mark the title with


async def test_a_copy_read_through_the_driver_is_the_copy_the_transaction_reads(catalog_uow) -> None:
    """GetCopy and LookupCopy run on the read-only unit of work, whose plain reads go through the driver."""
    book = await _book_with_copies(catalog_uow, 1)
    (copy,) = await _copies_of(catalog_uow, book)
    await _check_out(catalog_uow, circulation.CopySelector(copy=(book.id, copy.id)), loan := _loan())
    by_barcode = copies.LookupCopy(copy.details.barcode)
    by_id = copies.GetCopy(book.id, copy.id)
    read = await copies.lookup_copy(by_barcode, uow=catalog_uow.reads())
    assert read == await copies.lookup_copy(by_barcode, uow=catalog_uow())
    assert read.book_title == "Dead Souls" and read.current_loan == loan and read.status == CopyStatus.ON_LOAN
    assert await copies.get_copy(by_id, uow=catalog_uow.reads()) == await copies.get_copy(by_id, uow=catalog_uow())
    with pytest.raises(BarcodeNotFound):
        await copies.lookup_copy(copies.LookupCopy("NO-SUCH-BARCODE"), uow=catalog_uow.reads())
    with pytest.raises(CopyNotFound):
        await copies.get_copy(copies.GetCopy(book.id, uuid.uuid4()), uow=catalog_uow.reads())


async def test_a_copy_in_transit_for_a_hold_is_not_available_nor_deleted_with_its_book_until_shelved_or_released(
    catalog_uow,
) -> None:
    book = await _book_with_copies(catalog_uow, 1)
    hold = f"holds/{uuid.uuid4()}"
    reserve = circulation.ReserveCopy(book.id, hold=hold)
    held = await circulation.reserve_copy(reserve, uow=catalog_uow.circulation(), clock=CLOCK)
    assert (held.status, held.current_hold, await _available(catalog_uow, book)) == (CopyStatus.IN_TRANSIT, hold, 0)
    with pytest.raises(FailedPrecondition) as caught:
        await books.delete_book(books.DeleteBook(book.id), uow=catalog_uow(), clock=CLOCK)
    assert caught.value.reason == "COPIES_IN_CIRCULATION"
    shelve = circulation.ShelveHeldCopy(book.id, held.id, hold=hold)
    shelved = await circulation.shelve_held_copy(shelve, uow=catalog_uow.circulation(), clock=CLOCK)
    assert (shelved.status, shelved.current_hold) == (CopyStatus.ON_HOLD_SHELF, hold)
    release = circulation.ReleaseCopy(book.id, held.id, hold=hold)
    await circulation.release_copy(release, uow=catalog_uow.circulation(), clock=CLOCK)
    sent = copies.UpdateCopy(book.id, held.id, held.details, CopyStatus.IN_TRANSIT, ("status",))  # by hand
    await copies.update_copy(sent, uow=catalog_uow(), clock=CLOCK)
    await books.delete_book(books.DeleteBook(book.id), uow=catalog_uow(), clock=CLOCK)  # no hold's: it may go
