"""Every loans domain event has a wire format: its proto payload on athenaeum.loans.<event>.v1."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from athenaeum.loans.v1 import events_pb2, resources_pb2
from services.loans.api import events
from services.loans.domain.borrowing import CopyInfo
from services.loans.domain.calendar import NO_CLOSED_DAYS, ClosedDay
from services.loans.domain.fines import Fine, FineKind
from services.loans.domain.holds import Hold
from services.loans.domain.loans import Loan
from services.loans.domain.losses import begin_declaring_lost, declare_lost, found
from services.loans.domain.reminders import DEFAULT_DAYS, ReminderSchedule
from services.loans.domain.rules import CirculationRule, RuleTerms
from services.loans.domain.unrecorded import UNRECORDED, returned_unrecorded
from services.support.runtime.events import DomainEvent

NOW = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)


def every_event() -> list[DomainEvent]:
    rule = CirculationRule.create(RuleTerms("*", "*", fine_per_day=Decimal("1.00")), now=NOW)
    loan = Loan.begin(patron="users/p", book="books/b", barcode="", requested_copy="", hold="holds/h",
                      request_id=None, issued_by="users/s", now=NOW)  # fmt: skip
    copy = CopyInfo("books/b/copies/c", "books/b", "B1", "BOOK", "ON_LOAN")
    loan.activate(copy, rule=rule, book_title="Dead Souls", now=NOW, zone=UTC)
    schedule = ReminderSchedule.of_days(DEFAULT_DAYS)
    loan.remind(loan.due_at - timedelta(days=1), schedule, UTC, closed=NO_CLOSED_DAYS)  # type: ignore[operator]
    loan.renew(now=NOW, others_waiting=False, zone=UTC)
    later = loan.due_at + timedelta(days=3)  # type: ignore[operator]
    loan.remind(later, schedule, UTC, closed=NO_CLOSED_DAYS)
    fine = Fine.assess(patron="users/p", kind=FineKind.OVERDUE, amount=Decimal("3"), currency="RUB", now=later,
                       actor="system", loan=loan.name)  # fmt: skip
    loan.return_copy(now=later, fine=fine, zone=UTC, closed=NO_CLOSED_DAYS)
    fine.pay(Decimal("1"), now=later, actor="users/s")
    fine.waive("goodwill", now=later, actor="users/s")
    hold = Hold.place(patron="users/p", book="books/b", pickup_branch="", pickup_days=3, now=NOW)
    hold.make_ready("books/b/copies/c", now=NOW, zone=UTC)
    hold.expire(now=NOW + timedelta(days=4))
    other = Hold.place(patron="users/q", book="books/b", pickup_branch="", pickup_days=3, now=NOW)
    other.make_ready("books/b/copies/c", now=NOW, zone=UTC)
    other.fulfil("loans/x", copy="books/b/copies/c", now=NOW)
    cancelled = Hold.place(patron="users/r", book="books/b", pickup_branch="", pickup_days=3, now=NOW)
    cancelled.cancel("no", now=NOW)
    missing = Hold.place(patron="users/m", book="books/b", pickup_branch="", pickup_days=3, now=NOW)
    missing.send("books/b/copies/c", now=NOW)
    missing.copy_missing(now=NOW, reported_by="users/s")
    received = Hold.place(patron="users/t", book="books/b", pickup_branch="EAST", pickup_days=3, now=NOW)
    received.send("books/b/copies/d", now=NOW, from_branch="MAIN")
    received.receive("books/b/copies/d", now=NOW, zone=UTC, at_branch="EAST")
    passed = Hold.place(patron="users/u", book="books/b", pickup_branch="EAST", pickup_days=3, now=NOW)
    passed.send("books/b/copies/e", now=NOW)
    passed.back_in_queue("books/b/copies/e", now=NOW)
    moved = Hold.place(patron="users/v", book="books/b", pickup_branch="north", pickup_days=3, now=NOW)
    moved.change_pickup_branch("EAST", now=NOW, changed_by="users/v")
    lost = returned_unrecorded(replace(copy, current_loan=loan.name), returned_by="users/s", now=later)
    holds = [*hold.events, *other.events, *cancelled.events, *missing.events, *passed.events, *received.events]
    holds += moved.events
    return [*rule.events, *loan.events, *fine.events, *holds, *lost.events]


def test_every_kind_of_event_the_issue_names_is_published() -> None:
    subjects = {events.encoder(UTC)(event).subject.split(".")[2] for event in every_event()}
    assert subjects == {
        "circulation_rule_changed", "loan_issued", "loan_due_soon", "loan_renewed", "loan_overdue",
        "loan_returned", "fine_assessed", "fine_paid", "fine_waived", "hold_placed", "hold_ready",
        "hold_expired", "hold_fulfilled", "hold_cancelled", "hold_copy_missing", "hold_in_transit",
        "hold_copy_received", "hold_passed_over", "hold_pickup_branch_changed", "unrecorded_loan_returned",
    }  # fmt: skip


@pytest.mark.parametrize("event", every_event(), ids=lambda e: type(e).__name__)
def test_the_payload_carries_the_event_id_used_for_deduplication(event: DomainEvent) -> None:
    message = events.encoder(UTC)(event)
    payload = getattr(events_pb2, message.event_type.rsplit(".", 1)[1]).FromString(message.payload)
    assert payload.event_id == str(message.event_id)
    assert payload.occur_time.ToDatetime(tzinfo=UTC) == message.occurred_at


def test_a_returned_loan_event_carries_its_fine() -> None:
    returned = next(e for e in every_event() if type(e).__name__ == "LoanReturned")
    payload = events_pb2.LoanReturned.FromString(events.encoder(UTC)(returned).payload)
    assert payload.fine.amount == "3.00" and payload.overdue_days == 3 and payload.loan.status == 2


def test_a_hold_in_transit_says_from_which_branch_to_which_and_a_receipt_at_which_desk() -> None:
    sent, received = [e for e in every_event() if type(e).__name__ in ("HoldInTransit", "HoldCopyReceived")][-2:]
    transit = events_pb2.HoldInTransit.FromString(events.encoder(UTC)(sent).payload)
    assert (transit.from_branch, transit.to_branch, transit.hold.patron) == ("MAIN", "EAST", "users/t")
    receipt = events_pb2.HoldCopyReceived.FromString(events.encoder(UTC)(received).payload)
    assert (receipt.branch, receipt.hold.copy, receipt.hold.name) == ("EAST", "books/b/copies/d", transit.hold.name)


def test_a_changed_pickup_branch_says_which_it_was_and_who_changed_it() -> None:
    changed = next(e for e in every_event() if type(e).__name__ == "HoldPickupBranchChanged")
    payload = events_pb2.HoldPickupBranchChanged.FromString(events.encoder(UTC)(changed).payload)
    assert (payload.hold.pickup_branch, payload.previous_pickup_branch, payload.changed_by) == (
        "EAST",
        "north",
        "users/v",
    )


def test_an_unknown_event_has_no_wire_format() -> None:
    with pytest.raises(TypeError):
        events.encoder(UTC)(DomainEvent(occurred_at=NOW))


def test_a_due_soon_event_says_whether_a_renewal_could_extend_the_loan() -> None:
    """Said either way, never left unsaid (notifications invite a renewal by it: finding A11)."""
    due_soon = next(e for e in every_event() if type(e).__name__ == "LoanDueSoon")
    payload = events_pb2.LoanDueSoon.FromString(events.encoder(UTC)(due_soon).payload)
    assert payload.HasField("renewable") and payload.renewable is due_soon.renewable  # type: ignore[attr-defined]


def test_a_copy_checked_in_from_an_unrecorded_loan_is_audited_with_who_and_why() -> None:
    """The audit trail's subject is the loan's name, its actor `returned_by` (events' generic rules)."""
    lost = next(e for e in every_event() if type(e).__name__ == "UnrecordedLoanReturned")
    payload = events_pb2.UnrecordedLoanReturned.FromString(events.encoder(UTC)(lost).payload)
    assert payload.loan.name == lost.loan.name and payload.loan.status == 2 and payload.loan.patron == ""  # type: ignore[attr-defined]
    assert (payload.loan.copy, payload.returned_by, payload.reason) == ("books/b/copies/c", "users/s", UNRECORDED)


def test_a_declaration_of_loss_and_its_finding_are_published_with_the_loan_lost_and_its_fines() -> None:
    rule = CirculationRule.create(RuleTerms("*", "*", fine_per_day=Decimal("1.00")), now=NOW)
    loan = Loan.begin(patron="users/p", book="books/b", barcode="", requested_copy="", hold="",
                      request_id=None, issued_by="users/s", now=NOW)  # fmt: skip
    loan.activate(CopyInfo("books/b/copies/c", "books/b", "B1", "BOOK", "ON_LOAN"), rule=rule, book_title="Dead Souls",
                  now=NOW, zone=UTC)  # fmt: skip
    charge = Fine.assess(patron="users/p", kind=FineKind.LOST_ITEM, amount=Decimal("25"), currency="RUB", now=NOW,
                         actor="users/s", loan=loan.name)  # fmt: skip
    begin_declaring_lost(loan, NOW, fee=Decimal("25"), reason="gone")
    declare_lost(loan, now=NOW, lost_item_fine=charge, overdue_fine=None, actor="users/s")
    found(loan, now=NOW, lost_item_fine=charge, actor="users/s")
    declared, came_back = (events.encoder(UTC)(event) for event in loan.events[-2:])
    assert declared.subject == "athenaeum.loans.loan_declared_lost.v1"
    payload = events_pb2.LoanDeclaredLost.FromString(declared.payload)
    assert payload.loan.status == resources_pb2.LOAN_STATUS_LOST and payload.lost_item_fine.amount == "25.00"
    assert (payload.reason, payload.declared_by, payload.HasField("overdue_fine")) == ("gone", "users/s", False)
    assert came_back.subject == "athenaeum.loans.lost_loan_found.v1"
    assert events_pb2.LostLoanFound.FromString(came_back.payload).lost_item_fine.waive_reason == "found"


def test_a_payment_says_how_it_was_paid() -> None:
    """The cash desk's reconciliation ("how much cash did the desk take today") could not be made from the trail."""
    fine = Fine.assess(patron="users/p", kind=FineKind.OTHER, amount=Decimal("3"), currency="RUB", now=NOW,
                       actor="users/s")  # fmt: skip
    fine.pay(Decimal("1"), now=NOW, actor="users/s", method="cash")
    message = events.encoder(UTC)(fine.events[-1])
    paid = events_pb2.FinePaid.FromString(message.payload)
    assert (paid.amount, paid.payment_method) == ("1.00", "cash")


def test_a_rule_change_says_which_terms_changed_and_what_they_were_and_a_deletion_which_rule_it_was() -> None:
    """The trail had the new rule only (no mask, no old value), and a deleted rule read as zeroed terms."""
    rule = CirculationRule.create(RuleTerms("STUDENT", "DVD", fine_per_day=Decimal("0.25"), loan_period_days=7),
                                  now=NOW)  # fmt: skip
    rule.update(replace(rule.terms, fine_per_day=Decimal("0.75")), now=NOW)
    rule.delete(now=NOW)
    encode = events.encoder(UTC)
    updated, deleted = (events_pb2.CirculationRuleChanged.FromString(encode(e).payload) for e in rule.events[1:])
    assert list(updated.update_mask.paths) == ["fine_per_day"]
    assert dict(updated.previous_values) == {"fine_per_day": "0.25"} and updated.circulation_rule.fine_per_day == "0.75"
    assert deleted.deleted and not deleted.update_mask.paths
    assert (deleted.circulation_rule.patron_category, deleted.circulation_rule.item_type) == ("STUDENT", "DVD")
    assert deleted.circulation_rule.loan_period_days == 7


def test_a_rule_following_a_renamed_item_type_is_published_with_its_old_key_and_why() -> None:
    rule = CirculationRule.create(RuleTerms("*", "DVD/CD"), now=NOW, listed_item_type="DVD/CD")
    rule.follow_item_type("DVD", now=NOW, note="item type DVD/CD renamed DVD in the catalog")
    payload = events_pb2.CirculationRuleChanged.FromString(events.encoder(UTC)(rule.events[-1]).payload)
    assert (list(payload.update_mask.paths), dict(payload.previous_values)) == (["item_type"], {"item_type": "DVD/CD"})
    assert (payload.circulation_rule.item_type, payload.note) == ("DVD", "item type DVD/CD renamed DVD in the catalog")


def test_a_closed_day_and_its_reopening_are_published_with_the_day_as_the_audit_subject() -> None:
    closed = ClosedDay.create(date(2027, 1, 1), "New Year", now=NOW, zone=UTC)
    closed.delete(now=NOW)
    opened, reopened = (events.encoder(UTC)(event) for event in closed.events)
    assert opened.subject == "athenaeum.loans.closed_day_changed.v1"
    payload = events_pb2.ClosedDayChanged.FromString(opened.payload)
    assert (payload.closed_day.name, payload.closed_day.date, payload.closed_day.reason, payload.deleted) == (
        "closedDays/2027-01-01", "2027-01-01", "New Year", False
    )  # fmt: skip
    assert events_pb2.ClosedDayChanged.FromString(reopened.payload).deleted


def test_a_cancelled_hold_is_published_with_its_status_before_and_who_cancelled_it() -> None:
    hold = Hold.place(patron="users/r", book="books/b", pickup_branch="MAIN", pickup_days=3, now=NOW)
    hold.send("books/b/copies/c", now=NOW)
    hold.cancel("copy damaged", now=NOW)
    payload = events_pb2.HoldCancelled.FromString(events.encoder(UTC)(hold.events[-1]).payload)
    assert payload.previous_status == resources_pb2.HOLD_STATUS_IN_TRANSIT
    assert payload.HasField("by_patron") and not payload.by_patron
    assert payload.hold.cancel_reason == "copy damaged"


def test_a_ready_hold_whose_copy_is_taken_out_of_circulation_is_published_with_its_status_before() -> None:
    hold = Hold.place(patron="users/r", book="books/b", pickup_branch="MAIN", pickup_days=3, now=NOW)
    hold.make_ready("books/b/copies/c", now=NOW, zone=UTC)
    hold.copy_missing(now=NOW, reported_by="users/s", copy_status="DAMAGED")
    payload = events_pb2.HoldCopyMissing.FromString(events.encoder(UTC)(hold.events[-1]).payload)
    assert payload.previous_status == resources_pb2.HOLD_STATUS_READY
    assert (payload.hold.status, payload.copy) == (resources_pb2.HOLD_STATUS_WAITING, "books/b/copies/c")
    assert payload.copy_status == resources_pb2.HELD_COPY_STATUS_DAMAGED


def test_a_hold_passed_over_is_published_waiting_again_with_the_copy_it_lost() -> None:
    hold = Hold.place(patron="users/r", book="books/b", pickup_branch="MAIN", pickup_days=3, now=NOW)
    hold.send("books/b/copies/c", now=NOW)
    assert hold.back_in_queue("books/b/copies/c", now=NOW)
    payload = events_pb2.HoldPassedOver.FromString(events.encoder(UTC)(hold.events[-1]).payload)
    assert (payload.hold.status, payload.hold.copy) == (resources_pb2.HOLD_STATUS_WAITING, "")
    assert (payload.copy, payload.previous_status) == ("books/b/copies/c", resources_pb2.HOLD_STATUS_IN_TRANSIT)
