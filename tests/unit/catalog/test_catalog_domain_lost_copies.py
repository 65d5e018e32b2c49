"""A copy declared lost by loans: LOST while on loan, and back on the shelf when that loan checks it in (found)."""

import uuid
from datetime import UTC, datetime

import pytest

from services.catalog.domain.copies import Copy
from services.catalog.domain.copy_events import CopyStatusChanged
from services.catalog.domain.copy_values import CopyDetails, CopyStatus
from services.support.runtime.errors import FailedPrecondition

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


def _lent(loan: str = "loans/1") -> Copy:
    copy = Copy.register(uuid.uuid4(), CopyDetails(barcode="B-1"), now=NOW, status=CopyStatus.AVAILABLE)
    copy.check_out(loan, now=NOW)
    copy.events.clear()
    return copy


def test_a_copy_declared_lost_goes_lost_and_remembers_the_loan_that_lost_it() -> None:
    copy = _lent()
    copy.check_in("loans/1", hold="holds/9", lost=True, now=NOW)
    assert (copy.status, copy.current_loan, copy.current_hold) == (CopyStatus.LOST, "loans/1", "")
    version = copy.version
    copy.check_in("loans/1", lost=True, now=NOW)  # a repeat changes nothing
    assert copy.version == version
    assert [(e.previous, e.status, e.loan) for e in copy.events if isinstance(e, CopyStatusChanged)] == [
        (CopyStatus.ON_LOAN, CopyStatus.LOST, "loans/1")
    ]


def test_another_loan_cannot_declare_a_lent_copy_lost() -> None:
    copy = _lent()
    with pytest.raises(FailedPrecondition):
        copy.check_in("loans/2", lost=True, now=NOW)
    assert copy.status == CopyStatus.ON_LOAN


def test_a_lost_copy_found_is_checked_in_by_its_loan_onto_the_shelf_or_the_hold_shelf() -> None:
    shelf = _lent()
    shelf.check_in("loans/1", lost=True, now=NOW)
    shelf.check_in("loans/2", now=NOW)  # not the loan that lost it: nothing moves
    assert shelf.status == CopyStatus.LOST
    shelf.check_in("loans/1", now=NOW)
    assert (shelf.status, shelf.current_loan) == (CopyStatus.AVAILABLE, "")
    held = _lent()
    held.check_in("loans/1", lost=True, now=NOW)
    held.check_in("loans/1", hold="holds/3", now=NOW)
    assert (held.status, held.current_hold, held.current_loan) == (CopyStatus.ON_HOLD_SHELF, "holds/3", "")


def test_a_cataloguer_who_moves_a_lost_copy_ends_its_loan_s_claim_on_it() -> None:
    copy = _lent()
    copy.check_in("loans/1", lost=True, now=NOW)
    copy.revise(copy.details, CopyStatus.AVAILABLE, ("status",), now=NOW)
    assert (copy.status, copy.current_loan) == (CopyStatus.AVAILABLE, "")
