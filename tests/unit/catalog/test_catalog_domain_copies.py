"""Copy circulation rules, without I/O."""

import uuid
from datetime import UTC, datetime

import pytest

from services.catalog.domain.copies import COPY, Copy
from services.catalog.domain.copy_events import CopyStatusChanged, CopyUpdated
from services.catalog.domain.copy_values import CopyDetails, CopyStatus
from services.support.runtime.errors import Conflict, FailedPrecondition, InvalidArgument

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


def _copy(status: CopyStatus = CopyStatus.AVAILABLE) -> Copy:
    copy = Copy.register(uuid.uuid4(), CopyDetails(barcode=" B-1 ", item_type="dvd"), now=NOW, status=status)
    copy.events.clear()
    return copy


def test_a_new_copy_is_cleaned_and_circulation_statuses_are_refused() -> None:
    copy = _copy()
    assert (copy.details.barcode, copy.details.item_type) == ("B-1", "DVD")
    with pytest.raises(InvalidArgument):
        Copy.register(uuid.uuid4(), CopyDetails(barcode="B"), now=NOW, status=CopyStatus.ON_LOAN)
    with pytest.raises(InvalidArgument):
        Copy.register(uuid.uuid4(), CopyDetails(barcode="has space"), now=NOW, status=CopyStatus.AVAILABLE)


def test_checking_out_twice_for_the_same_loan_changes_nothing_the_second_time() -> None:
    copy = _copy()
    copy.check_out("loans/1", now=NOW)
    version = copy.version
    copy.check_out("loans/1", now=NOW)
    assert (copy.status, copy.current_loan, copy.version) == (CopyStatus.ON_LOAN, "loans/1", version)
    assert [type(e) for e in copy.events] == [CopyStatusChanged]
    with pytest.raises(FailedPrecondition):
        copy.check_out("loans/2", now=NOW)


def test_check_in_ends_only_its_own_loan_and_can_go_to_the_hold_shelf() -> None:
    copy = _copy()
    copy.check_out("loans/1", now=NOW)
    with pytest.raises(FailedPrecondition):
        copy.check_in("loans/2", now=NOW)
    copy.check_in("loans/1", hold="holds/9", now=NOW)
    assert (copy.status, copy.current_loan, copy.current_hold) == (CopyStatus.ON_HOLD_SHELF, "", "holds/9")
    copy.check_in("loans/1", now=NOW)  # a repeat is a no-op
    assert copy.status == CopyStatus.ON_HOLD_SHELF


def test_a_held_copy_is_lent_only_for_its_hold_and_released_only_by_it() -> None:
    copy = _copy()
    copy.reserve("holds/1", now=NOW)
    with pytest.raises(FailedPrecondition):
        copy.check_out("loans/1", hold="holds/2", now=NOW)
    with pytest.raises(FailedPrecondition):
        copy.release("holds/2", now=NOW)
    copy.release("holds/1", now=NOW)
    copy.release("holds/1", now=NOW)
    assert copy.status == CopyStatus.AVAILABLE


def test_status_events_carry_the_availability_settled_after_the_change() -> None:
    copy = _copy()
    copy.check_out("loans/1", now=NOW)
    copy.settle_availability(3)
    (event,) = copy.events
    assert (event.previous, event.status, event.loan, event.available_copies) == (
        CopyStatus.AVAILABLE, CopyStatus.ON_LOAN, "loans/1", 3,
    )  # fmt: skip


def test_cataloguers_cannot_move_a_copy_out_of_circulation_or_into_it() -> None:
    lent = _copy()
    lent.check_out("loans/1", now=NOW)
    with pytest.raises(FailedPrecondition):
        lent.revise(lent.details, CopyStatus.LOST, ("status",), now=NOW)
    with pytest.raises(FailedPrecondition):
        lent.remove(now=NOW)
    with pytest.raises(InvalidArgument):
        _copy().revise(lent.details, CopyStatus.ON_HOLD_SHELF, ("status",), now=NOW)


def test_a_lent_copy_keeps_its_barcode_until_it_is_back_but_its_shelf_may_change() -> None:
    """Loans returns by the barcode it lent: relabelled while out, the copy could not be returned by its label."""
    lent = _copy()
    lent.check_out("loans/1", now=NOW)
    with pytest.raises(FailedPrecondition) as refused:
        lent.revise(CopyDetails(barcode="B-2"), None, ("barcode",), now=NOW)
    assert refused.value.reason == "COPY_IN_CIRCULATION" and lent.details.barcode == "B-1"
    lent.revise(CopyDetails(barcode="B-1", shelf_location="A-3"), None, ("barcode", "shelf_location"), now=NOW)
    assert lent.details.shelf_location == "A-3"
    lent.check_in("loans/1", now=NOW)
    lent.revise(CopyDetails(barcode="B-2"), None, ("barcode",), now=NOW)
    assert lent.details.barcode == "B-2"


def test_a_stale_etag_is_a_conflict() -> None:
    copy = _copy()
    copy.check_etag(copy.etag)
    with pytest.raises(Conflict):
        copy.check_etag('W/"0"')


def test_a_cataloguer_revision_bumps_the_version_once_and_records_what_changed() -> None:
    copy = _copy()
    copy.revise(CopyDetails(barcode="B-1", branch="EAST"), CopyStatus.DAMAGED, ("branch", "status"), now=NOW)
    assert (copy.details.branch, copy.status, copy.version) == ("EAST", CopyStatus.DAMAGED, 2)
    assert [type(e) for e in copy.events] == [CopyUpdated, CopyStatusChanged]
    copy.revise(copy.details, CopyStatus.DAMAGED, ("branch", "status"), now=NOW)
    assert copy.version == 2 and len(copy.events) == 2  # nothing changed, nothing recorded


def test_a_copy_is_named_under_its_book() -> None:
    copy = _copy()
    assert COPY.parse(copy.name) == (copy.book_id, copy.id)


def test_a_reserved_copy_is_in_transit_for_its_hold_until_shelved_and_lent_only_to_that_hold() -> None:
    copy = _copy()
    copy.reserve("holds/1", now=NOW)
    assert (copy.status, copy.current_hold) == (CopyStatus.IN_TRANSIT, "holds/1")
    copy.reserve("holds/1", now=NOW)  # a repeat is a no-op
    with pytest.raises(FailedPrecondition):
        copy.reserve("holds/2", now=NOW)
    with pytest.raises(FailedPrecondition):
        copy.check_out("loans/1", now=NOW)
    with pytest.raises(FailedPrecondition):
        copy.shelve("holds/2", now=NOW)
    copy.shelve("holds/1", now=NOW)
    copy.shelve("holds/1", now=NOW)
    assert (copy.status, copy.current_hold) == (CopyStatus.ON_HOLD_SHELF, "holds/1")
    copy.reserve("holds/1", now=NOW)  # the hold's copy, wherever it is now
    assert copy.status == CopyStatus.ON_HOLD_SHELF


def test_a_copy_in_transit_for_a_hold_is_lent_to_its_hold_and_released_by_it() -> None:
    lent, released = _copy(), _copy()
    for copy in (lent, released):
        copy.reserve("holds/1", now=NOW)
    lent.check_out("loans/1", hold="holds/1", now=NOW)
    assert (lent.status, lent.current_loan, lent.current_hold) == (CopyStatus.ON_LOAN, "loans/1", "")
    with pytest.raises(FailedPrecondition):
        released.release("holds/2", now=NOW)
    released.release("holds/1", now=NOW)
    assert (released.status, released.current_hold) == (CopyStatus.AVAILABLE, "")
    with pytest.raises(FailedPrecondition):
        released.shelve("holds/1", now=NOW)  # released: not set aside any more


def test_a_check_in_for_a_hold_in_transit_sends_the_copy_to_the_pickup_branch() -> None:
    copy = _copy()
    copy.check_out("loans/1", now=NOW)
    copy.check_in("loans/1", hold="holds/9", in_transit=True, now=NOW)
    assert (copy.status, copy.current_loan, copy.current_hold) == (CopyStatus.IN_TRANSIT, "", "holds/9")
    copy.shelve("holds/9", now=NOW)
    assert copy.status == CopyStatus.ON_HOLD_SHELF


def test_a_copy_in_transit_for_a_hold_is_circulation_s_but_a_cataloguer_s_transit_is_not() -> None:
    held = _copy()
    held.reserve("holds/1", now=NOW)
    with pytest.raises(FailedPrecondition):
        held.revise(held.details, CopyStatus.AVAILABLE, ("status",), now=NOW)
    with pytest.raises(FailedPrecondition):
        held.remove(now=NOW)
    sent = _copy(CopyStatus.IN_TRANSIT)
    sent.release("holds/1", now=NOW)  # no hold's: left as is
    assert sent.status == CopyStatus.IN_TRANSIT
    with pytest.raises(FailedPrecondition):
        sent.check_out("loans/1", hold="holds/1", now=NOW)
    sent.revise(sent.details, CopyStatus.AVAILABLE, ("status",), now=NOW)
    assert sent.status == CopyStatus.AVAILABLE
    sent.revise(sent.details, CopyStatus.IN_TRANSIT, ("status",), now=NOW)
    sent.remove(now=NOW)
