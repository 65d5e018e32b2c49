"""A copy set aside for a hold taken out of circulation by staff (through loans), and a copy released from another
branch's hold shelf sent home and received there (findings B1, B2)."""

import uuid
from datetime import UTC, datetime

import pytest

from services.catalog.api.convert import copy_to_proto
from services.catalog.app import circulation
from services.catalog.app.queries import COPY_FILTER_FIELDS, parse_filter
from services.catalog.domain.books import Book, BookDetails
from services.catalog.domain.copies import Copy
from services.catalog.domain.copy_events import CopyStatusChanged
from services.catalog.domain.copy_values import CopyDetails, CopyStatus
from services.support.runtime.clock import FixedClock
from services.support.runtime.errors import FailedPrecondition, InvalidArgument
from tests.unit.catalog.fakes import FakeCatalog

NOW = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)
CLOCK = FixedClock(NOW)
HOLD = "holds/h-1"
KADIKOY = "Kad\u0131k\u00f6y"  # Kadikoy, its first i dotless (U+0131)


@pytest.fixture
def catalog() -> FakeCatalog:
    return FakeCatalog()


def _copy(catalog: FakeCatalog, branch: str = "MAIN", barcode: str = "2001") -> tuple[uuid.UUID, Copy]:
    book = Book.register(BookDetails(title="Two Branches"), now=NOW)
    catalog.state.books[book.id] = book
    copy = Copy.register(book.id, CopyDetails(barcode, branch), now=NOW, status=CopyStatus.AVAILABLE)
    catalog.state.copies[copy.id] = copy
    return book.id, copy


async def _on_hold_shelf(catalog: FakeCatalog) -> tuple[uuid.UUID, Copy]:
    book_id, copy = _copy(catalog)
    await circulation.reserve_copy(circulation.ReserveCopy(book_id, HOLD), uow=catalog(), clock=CLOCK)
    shelve = circulation.ShelveHeldCopy(book_id, copy.id, HOLD)
    return book_id, await circulation.shelve_held_copy(shelve, uow=catalog(), clock=CLOCK)


@pytest.mark.parametrize("status", [CopyStatus.DAMAGED, CopyStatus.WITHDRAWN])
async def test_a_copy_on_the_hold_shelf_is_taken_out_of_circulation_with_the_status_staff_chose(
    catalog: FakeCatalog, status: CopyStatus
) -> None:
    book_id, held = await _on_hold_shelf(catalog)
    command = circulation.ReportHeldCopyMissing(book_id, held.id, HOLD, status=status)
    out = await circulation.report_held_copy_missing(command, uow=catalog(), clock=CLOCK)
    again = await circulation.report_held_copy_missing(command, uow=catalog(), clock=CLOCK)
    assert (out.status, out.current_hold, again.status) == (status, "", status)
    *_, changed = catalog.events(CopyStatusChanged)
    assert (changed.previous, changed.status, changed.hold, changed.note) == (
        CopyStatus.ON_HOLD_SHELF, status, HOLD, ""
    )  # fmt: skip
    assert len(catalog.events(CopyStatusChanged)) == 3  # set aside, shelved, taken out; the repeat is silent


async def test_a_held_copy_is_not_made_available_nor_lent_through_the_report(catalog: FakeCatalog) -> None:
    book_id, held = await _on_hold_shelf(catalog)
    with pytest.raises(InvalidArgument):
        command = circulation.ReportHeldCopyMissing(book_id, held.id, HOLD, status=CopyStatus.AVAILABLE)
        await circulation.report_held_copy_missing(command, uow=catalog(), clock=CLOCK)


async def test_a_copy_released_from_another_branchs_hold_shelf_is_sent_home_and_available_there(
    catalog: FakeCatalog,
) -> None:
    book_id, copy = _copy(catalog, "MAIN")
    send = circulation.SendCopyHome(book_id, copy.id, from_branch="east")
    sent = await circulation.send_copy_home(send, uow=catalog(), clock=CLOCK)
    again = await circulation.send_copy_home(send, uow=catalog(), clock=CLOCK)
    # kept as loans spells it (the desk's branch in the list's spelling)
    assert (sent.status, sent.current_hold, sent.sent_home_from) == (CopyStatus.IN_TRANSIT, "", "east")
    assert again.version == sent.version and copy_to_proto(again).sent_home_from == "east"
    *_, changed = catalog.events(CopyStatusChanged)
    assert (changed.status, changed.note) == (CopyStatus.IN_TRANSIT, "sent home from the hold shelf at east")
    async with catalog() as uow:  # EAST's list of copies to send home
        conditions = parse_filter('sent_home_from = "EAST"', COPY_FILTER_FIELDS)  # any case
        listed = await uow.copies.list(book_id=None, conditions=conditions, after=None, limit=10)
    assert [c.id for c in listed] == [copy.id]
    at_east = circulation.ReceiveCopyHome(book_id, copy.id, branch="EAST")
    still = await circulation.receive_copy_home(at_east, uow=catalog(), clock=CLOCK)
    assert (still.status, still.sent_home_from) == (CopyStatus.IN_TRANSIT, "east")  # send it on to MAIN
    at_main = circulation.ReceiveCopyHome(book_id, copy.id, branch="main")
    home = await circulation.receive_copy_home(at_main, uow=catalog(), clock=CLOCK)
    twice = await circulation.receive_copy_home(at_main, uow=catalog(), clock=CLOCK)
    assert (home.status, home.sent_home_from, twice.status) == (CopyStatus.AVAILABLE, "", CopyStatus.AVAILABLE)


async def test_a_copy_at_its_own_branch_or_taken_meanwhile_is_not_sent_home(catalog: FakeCatalog) -> None:
    book_id, copy = _copy(catalog, "MAIN")
    own = await circulation.send_copy_home(
        circulation.SendCopyHome(book_id, copy.id, from_branch="MAIN"), uow=catalog(), clock=CLOCK
    )
    assert own.status == CopyStatus.AVAILABLE
    await circulation.reserve_copy(circulation.ReserveCopy(book_id, HOLD), uow=catalog(), clock=CLOCK)
    with pytest.raises(FailedPrecondition) as refused:
        await circulation.send_copy_home(
            circulation.SendCopyHome(book_id, copy.id, from_branch="EAST"), uow=catalog(), clock=CLOCK
        )
    assert refused.value.reason == "COPY_NOT_AVAILABLE"
    with pytest.raises(FailedPrecondition) as not_moving:
        await circulation.receive_copy_home(
            circulation.ReceiveCopyHome(book_id, copy.id, branch="MAIN"), uow=catalog(), clock=CLOCK
        )
    assert not_moving.value.reason == "COPY_NOT_IN_TRANSIT"


async def test_a_copy_moving_home_is_taken_in_at_another_branch_for_a_hold_there(catalog: FakeCatalog) -> None:
    book_id, copy = _copy(catalog, "MAIN")
    send = circulation.SendCopyHome(book_id, copy.id, from_branch="EAST")
    await circulation.send_copy_home(send, uow=catalog(), clock=CLOCK)
    take_in = circulation.ReceiveCopyHome(book_id, copy.id, branch="EAST", take_in=True)
    taken = await circulation.receive_copy_home(take_in, uow=catalog(), clock=CLOCK)
    assert (taken.status, taken.sent_home_from) == (CopyStatus.AVAILABLE, "")  # for the queue to take it at EAST


async def test_a_copy_released_at_its_own_non_ascii_branch_is_not_sent_home_and_a_repeat_changes_nothing(
    catalog: FakeCatalog,
) -> None:
    # Its dotless i upper-cases to I, which casefolds to i: upper-cased, it was another branch than itself.
    book_id, copy = _copy(catalog, KADIKOY)
    own = await circulation.send_copy_home(
        circulation.SendCopyHome(book_id, copy.id, from_branch=KADIKOY), uow=catalog(), clock=CLOCK
    )
    assert (own.status, own.sent_home_from) == (CopyStatus.AVAILABLE, "")
    _, other = _copy(catalog, "MAIN", barcode="2002")
    send = circulation.SendCopyHome(other.book_id, other.id, from_branch=KADIKOY)
    sent = await circulation.send_copy_home(send, uow=catalog(), clock=CLOCK)
    again = await circulation.send_copy_home(send, uow=catalog(), clock=CLOCK)  # a retry: sent from there already
    assert (sent.status, sent.sent_home_from, again.version) == (CopyStatus.IN_TRANSIT, KADIKOY, sent.version)
