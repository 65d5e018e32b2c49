"""The desk's copy operations (a check-out by barcode, a check-in) as one read and one write that carries its
event, against real Postgres: twins and rivals meet at the write, and the loser, repeated as the runtime
repeats a lost race, reads what the winner did. One copy per loan, one loan per copy, one shelf copy per hold,
and one event per change, however many arrive at once."""

from __future__ import annotations

import asyncio
import uuid

import pytest
import sqlalchemy as sa

from athenaeum.catalog.v1 import events_pb2
from services.catalog.api.convert import status_from_proto
from services.catalog.app import circulation, copies
from services.catalog.domain.copies import Copy
from services.catalog.domain.copy_values import CopyStatus
from services.support.runtime.callers import current_caller
from services.support.runtime.conflicts import CONCURRENT_UPDATE, retry_conflicts
from services.support.runtime.errors import Conflict, FailedPrecondition
from services.support.runtime.identity import ANONYMOUS, EDGE_CALLER
from services.support.runtime.messaging import ACTOR_HEADER
from services.support.runtime.outbox import OUTBOX
from tests.integration.catalog.test_catalog_inventory import CLOCK, _available, _book_with_copies, _copies_of, _loan

pytestmark = pytest.mark.integration
STATUS_CHANGED = "athenaeum.catalog.copy_status_changed.v1"


async def _by_barcode(units, barcode: str, loan: str, hold: str = "") -> Copy:
    """As the service runs it: on the circulation unit of work, a lost race repeated by the runtime."""
    command = circulation.CheckOutCopy(circulation.CopySelector(barcode=barcode), loan=loan, hold=hold)
    return await retry_conflicts(lambda: circulation.check_out_copy(command, uow=units.circulation(), clock=CLOCK))


async def _back(units, copy: Copy, loan: str, hold: str = "") -> Copy:
    command = circulation.CheckInCopy(copy.book_id, copy.id, loan=loan, hold=hold)
    return await retry_conflicts(lambda: circulation.check_in_copy(command, uow=units.circulation(), clock=CLOCK))


async def _announced(units) -> list[tuple[CopyStatus | None, int]]:
    """The copy status events in the outbox, oldest first: (the copy's new status, the book's availability)."""
    async with units() as uow:
        query = sa.select(OUTBOX.c.payload).where(OUTBOX.c.subject == STATUS_CHANGED).order_by(OUTBOX.c.seq)
        payloads = (await uow.session.scalars(query)).all()
    found = []
    for payload in payloads:
        event = events_pb2.CopyStatusChanged.FromString(payload)
        found.append((status_from_proto(event.status), event.available_copies))
    return found


async def test_twins_of_one_check_out_by_barcode_take_one_copy_and_announce_it_once(catalog_uow) -> None:
    book = await _book_with_copies(catalog_uow, 3)
    first, *_ = await _copies_of(catalog_uow, book)
    loan = _loan()
    taken = await asyncio.gather(*(_by_barcode(catalog_uow, first.details.barcode, loan) for _ in range(10)))
    assert {c.id for c in taken} == {first.id} and {c.current_loan for c in taken} == {loan}
    assert await _available(catalog_uow, book) == 2
    assert len(await _announced(catalog_uow)) == 1


async def test_rivals_for_one_barcode_leave_one_holder_and_the_others_told_it_is_not_available(catalog_uow) -> None:
    book = await _book_with_copies(catalog_uow, 2)
    first, _ = await _copies_of(catalog_uow, book)
    outcomes = await asyncio.gather(
        *(_by_barcode(catalog_uow, first.details.barcode, _loan()) for _ in range(8)), return_exceptions=True
    )
    winners = [o for o in outcomes if isinstance(o, Copy)]
    assert len(winners) == 1
    refusals = [o for o in outcomes if not isinstance(o, Copy)]
    assert all(isinstance(o, FailedPrecondition) and o.reason == "COPY_NOT_AVAILABLE" for o in refusals)
    (after, _) = await _copies_of(catalog_uow, book)
    assert after.current_loan == winners[0].current_loan and after.status == CopyStatus.ON_LOAN
    assert len(await _announced(catalog_uow)) == 1


async def test_two_copies_back_at_once_for_one_hold_shelve_one_and_free_the_other(catalog_uow) -> None:
    book = await _book_with_copies(catalog_uow, 3)
    one, two, _ = await _copies_of(catalog_uow, book)
    loans = [_loan(), _loan()]
    lent = [await _by_barcode(catalog_uow, c.details.barcode, loan) for c, loan in zip((one, two), loans, strict=True)]
    hold = f"holds/{uuid.uuid4()}"
    back = await asyncio.gather(*(_back(catalog_uow, copy, loan, hold) for copy, loan in zip(lent, loans, strict=True)))
    assert sorted(c.status for c in back) == sorted([CopyStatus.ON_HOLD_SHELF, CopyStatus.AVAILABLE])
    assert [c.current_hold for c in back if c.status == CopyStatus.ON_HOLD_SHELF] == [hold]
    assert await _available(catalog_uow, book) == 2
    assert len(await _announced(catalog_uow)) == 4  # two out, two back


async def test_a_check_in_repeated_changes_nothing_and_says_where_the_copy_went(catalog_uow) -> None:
    book = await _book_with_copies(catalog_uow, 1)
    (copy,) = await _copies_of(catalog_uow, book)
    loan, hold = _loan(), f"holds/{uuid.uuid4()}"
    lent = await _by_barcode(catalog_uow, copy.details.barcode, loan)
    answers = await asyncio.gather(*(_back(catalog_uow, lent, loan, hold) for _ in range(5)))
    assert {(c.status, c.current_hold, c.version) for c in answers} == {
        (CopyStatus.ON_HOLD_SHELF, hold, lent.version + 1)
    }
    assert len(await _announced(catalog_uow)) == 2


async def test_the_write_carries_the_event_with_the_availability_and_the_caller(catalog_uow) -> None:
    book = await _book_with_copies(catalog_uow, 3)
    first, *_ = await _copies_of(catalog_uow, book)
    token = current_caller.set(EDGE_CALLER)  # nobody signed in, from outside the mesh: ANONYMOUS
    try:
        lent = await _by_barcode(catalog_uow, first.details.barcode, loan := _loan())
        await _back(catalog_uow, lent, loan)
    finally:
        current_caller.reset(token)
    assert [available for _, available in await _announced(catalog_uow)] == [2, 3]
    async with catalog_uow() as uow:
        headers = (await uow.session.scalars(sa.select(OUTBOX.c.headers).order_by(OUTBOX.c.seq))).all()
    assert headers[-1][ACTOR_HEADER] == ANONYMOUS


async def test_a_check_out_that_lost_to_a_cataloguer_writes_nothing_until_repeated(catalog_uow) -> None:
    """The copy was read AVAILABLE; a cataloguer withdrew it before the write: the write touches no row and its
    event is not written (CONCURRENT_UPDATE); repeated, the check-out is refused."""
    book = await _book_with_copies(catalog_uow, 1)
    (copy,) = await _copies_of(catalog_uow, book)
    command = circulation.CheckOutCopy(circulation.CopySelector(barcode=copy.details.barcode), loan=_loan())
    uow = catalog_uow.circulation()
    with pytest.raises(Conflict) as caught:
        async with uow.single_write():
            _, read, others = await uow.copies.to_check_out(loan=command.loan, barcode=copy.details.barcode)
            assert read is not None and read.status == CopyStatus.AVAILABLE and others == 0
            withdraw = copies.UpdateCopy(book.id, copy.id, copy.details, CopyStatus.WITHDRAWN, ("status",))
            await copies.update_copy(withdraw, uow=catalog_uow(), clock=CLOCK)
            read.check_out(command.loan, now=CLOCK.now())
            await circulation.save_settled_copy(read, others, uow)
    assert caught.value.reason == CONCURRENT_UPDATE
    (after,) = await _copies_of(catalog_uow, book)
    assert (after.status, after.current_loan) == (CopyStatus.WITHDRAWN, "")
    assert not any(status == CopyStatus.ON_LOAN for status, _ in await _announced(catalog_uow))
    with pytest.raises(FailedPrecondition):
        await circulation.check_out_copy(command, uow=catalog_uow.circulation(), clock=CLOCK)
