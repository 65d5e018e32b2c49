"""A return's first read on real Postgres: the loan it names and the head of its book's queue, in one
statement through the driver (the note then puts the copy on the hold shelf for that hold)."""

from __future__ import annotations

import uuid

import pytest
from loans_world import DESK, START, World

from services.loans.app.holding import CancelHold, PlaceHold
from services.loans.app.issuing import IssueLoan
from services.loans.domain.hold_record import HoldStatus
from services.loans.domain.loan_record import LoanStatus
from services.loans.domain.loans import LoanNotFound

pytestmark = pytest.mark.integration


async def test_a_loan_read_through_the_driver_is_the_loan_the_transaction_reads(world: World) -> None:
    """The issue's and the return's first reads (by request_id, by barcode, by id) go through the driver on a
    read-only unit of work: the same loan, its terms (JSON) and times included, as a transaction reads."""
    _, (copy,) = world.catalog.add_book()
    barcode = world.catalog.barcode(copy)
    request_id = uuid.uuid4()
    loan = await world.issue(IssueLoan("users/p9", barcode=barcode, request_id=request_id, actor=DESK))
    uow = world.uow()
    async with uow:
        in_transaction = await uow.loans.get(loan.id)
    async with uow.reading():
        assert uow.loans._driver_access is not None  # the path under test
        by_id = await uow.loans.get(loan.id)
        by_request = await uow.loans.by_request(request_id)
        by_barcode, nobody = await uow.loans.to_return(barcode=barcode, now=START)
        to_return, _ = await uow.loans.to_return(loan_id=loan.id, now=START)
        nothing = await uow.loans.by_request(uuid.uuid4())
    assert by_id == by_request == by_barcode == to_return == in_transaction and nothing is None and nobody is None
    assert by_id.status == LoanStatus.ACTIVE and by_id.terms == in_transaction.terms and by_id.due_at > by_id.issued_at


async def test_a_return_by_barcode_finds_the_active_loan_whatever_the_letter_case_scanned(world: World) -> None:
    _, (copy,) = world.catalog.add_book()
    barcode = world.catalog.barcode(copy)  # BC-<lower-case hex>
    loan = await world.issue(IssueLoan("users/p9", barcode=barcode, actor=DESK))
    uow = world.uow()
    async with uow.reading():
        for scanned in (barcode.lower(), barcode.upper()):
            found, _ = await uow.loans.to_return(barcode=scanned, now=START)
            assert found.id == loan.id and found.barcode == barcode


async def test_a_return_reads_with_its_loan_the_hold_at_the_head_of_the_books_queue(world: World) -> None:
    other_book, (other_copy,) = world.catalog.add_book()
    await world.issue(IssueLoan("users/p5", barcode=world.catalog.barcode(other_copy), actor=DESK))
    elsewhere = await world.place_hold(PlaceHold("users/p4", other_book, actor=DESK))  # first, on another book
    assert elsewhere.status == HoldStatus.WAITING
    book, (copy,) = world.catalog.add_book()
    barcode = world.catalog.barcode(copy)
    loan = await world.issue(IssueLoan("users/p1", barcode=barcode, actor=DESK))
    first = await world.place_hold(PlaceHold("users/p2", book, actor=DESK))
    second = await world.place_hold(PlaceHold("users/p3", book, actor=DESK))

    async def queue_head() -> uuid.UUID | None:
        uow = world.uow()
        async with uow.reading():
            by_barcode, head = await uow.loans.to_return(barcode=barcode, now=START)
            by_id, same_head = await uow.loans.to_return(loan_id=loan.id, now=START)
        assert by_barcode.id == by_id.id == loan.id and head == same_head
        return head

    assert await queue_head() == first.id
    await world.cancel_hold(CancelHold(first.id, "no longer needed", actor=DESK))
    assert await queue_head() == second.id
    await world.cancel_hold(CancelHold(second.id, "no longer needed", actor=DESK))
    assert await queue_head() is None  # the other book's queue is not this one's


@pytest.mark.parametrize("named", [{"barcode": "NO-SUCH-COPY"}, {"loan_id": uuid.uuid4()}])
async def test_a_return_of_a_loan_that_does_not_exist_is_not_found(world: World, named: dict) -> None:
    uow = world.uow()
    async with uow.reading():
        with pytest.raises(LoanNotFound):
            await uow.loans.to_return(**named, now=START)
