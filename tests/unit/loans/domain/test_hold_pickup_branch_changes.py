"""A hold's pickup branch changed while it waits: at its place, recorded; fixed once a copy is set aside."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.loans.domain.hold_events import HoldPickupBranchChanged
from services.loans.domain.hold_record import HoldStatus
from services.loans.domain.holds import Hold
from services.support.runtime.errors import FailedPrecondition

NOW = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)


def waiting() -> Hold:
    return Hold.place(patron="users/p", book="books/b", pickup_branch="MAIN", pickup_days=3, now=NOW)


def test_a_waiting_hold_changes_its_pickup_branch_and_records_who_changed_it() -> None:
    hold = waiting()
    assert hold.change_pickup_branch("EAST", now=NOW + timedelta(hours=1), changed_by="users/p")
    assert (hold.pickup_branch, hold.status, hold.created_at) == ("EAST", HoldStatus.WAITING, NOW)
    assert hold.updated_at == NOW + timedelta(hours=1)
    event = hold.events[-1]
    assert isinstance(event, HoldPickupBranchChanged)
    assert (event.previous_pickup_branch, event.changed_by, event.hold.pickup_branch) == ("MAIN", "users/p", "EAST")


@pytest.mark.parametrize("same", ["MAIN", "main", " Main "])
def test_the_same_branch_in_any_letter_case_changes_nothing(same: str) -> None:
    hold = waiting()
    assert not hold.change_pickup_branch(same, now=NOW, changed_by="users/p")
    assert hold.pickup_branch == "MAIN" and len(hold.events) == 1  # HoldPlaced only


def test_a_hold_with_a_copy_set_aside_keeps_its_branch() -> None:
    sent, ready = waiting(), waiting()
    sent.send("books/b/copies/c", now=NOW)
    ready.make_ready("books/b/copies/d", now=NOW, zone=UTC)
    for hold in (sent, ready):
        with pytest.raises(FailedPrecondition) as refused:
            hold.change_pickup_branch("EAST", now=NOW, changed_by="users/p")
        assert refused.value.reason == "HOLD_COPY_SET_ASIDE" and hold.pickup_branch == "MAIN"
        assert refused.value.metadata["status"] == hold.status.value
    assert not ready.change_pickup_branch("MAIN", now=NOW, changed_by="users/p")  # the same: answered as it is


def test_an_ended_hold_keeps_its_branch() -> None:
    hold = waiting()
    hold.cancel("changed my mind", now=NOW)
    with pytest.raises(FailedPrecondition) as refused:
        hold.change_pickup_branch("EAST", now=NOW, changed_by="users/p")
    assert refused.value.reason == "HOLD_NOT_ACTIVE"
