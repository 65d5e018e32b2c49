"""Loans domain events -> proto payloads on JetStream, subject athenaeum.loans.<snake_case name>.v1.

The unit of work calls the encoder at commit, so each payload is the aggregate as committed with the change;
the loans in it count their overdue days in the library's time zone, which the encoder is made for.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import tzinfo
from functools import partial
from typing import Any

from google.protobuf.field_mask_pb2 import FieldMask
from google.protobuf.message import Message

from athenaeum.loans.v1 import events_pb2, resources_pb2
from services.loans.api.calendar_rpcs import closed_day_to_proto
from services.loans.api.convert import (
    fine_to_proto,
    hold_status_to_proto,
    hold_to_proto,
    loan_to_proto,
    rule_to_proto,
)
from services.loans.domain import calendar, fines, hold_events, loan_events, losses, rules, unrecorded
from services.loans.domain.calendar import NO_CLOSED_DAYS
from services.loans.domain.money import money
from services.support.runtime.events import DomainEvent
from services.support.runtime.outbox import OutboxMessage
from services.support.runtime.previous_values import previous_values
from services.support.runtime.wire import outbox_message, timestamp


def _loan(event: Any, zone: tzinfo) -> dict[str, Any]:
    # The encoder reads no calendar: the loan of every event but LoanOverdue (see `_overdue`) is not late then
    # (issued, renewed, due soon), or returned (the count kept at its return) or lost (none).
    return {"loan": loan_to_proto(event.loan, now=event.occurred_at, zone=zone, closed=NO_CLOSED_DAYS)}


def _overdue(event: loan_events.LoanOverdue, zone: tzinfo) -> dict[str, Any]:
    payload = _loan(event, zone)
    payload["loan"].overdue_days = event.chargeable_days  # counted on the calendar by the reminder pass
    return {**payload, "overdue_days": event.overdue_days, "step": event.step}


def _returned(event: loan_events.LoanReturned, zone: tzinfo) -> dict[str, Any]:
    fine = fine_to_proto(event.fine) if event.fine is not None else None
    return {**_loan(event, zone), "overdue_days": event.overdue_days, "fine": fine}


def _declared_lost(event: losses.LoanDeclaredLost, zone: tzinfo) -> dict[str, Any]:
    return {
        **_loan(event, zone),
        "lost_item_fine": fine_to_proto(event.lost_item_fine) if event.lost_item_fine is not None else None,
        "overdue_fine": fine_to_proto(event.overdue_fine) if event.overdue_fine is not None else None,
        "reason": event.reason,
        "declared_by": event.declared_by,
    }


def _found(event: losses.LostLoanFound, zone: tzinfo) -> dict[str, Any]:
    fine = fine_to_proto(event.lost_item_fine) if event.lost_item_fine is not None else None
    return {**_loan(event, zone), "lost_item_fine": fine, "found_by": event.found_by}


_PAYLOADS: dict[type[DomainEvent], tuple[Callable[..., Message], Callable[[Any, tzinfo], dict[str, Any]]]] = {
    loan_events.LoanIssued: (events_pb2.LoanIssued, lambda e, z: {**_loan(e, z), "hold": e.loan.hold}),
    loan_events.LoanReturned: (events_pb2.LoanReturned, _returned),
    losses.LoanDeclaredLost: (events_pb2.LoanDeclaredLost, _declared_lost),
    losses.LostLoanFound: (events_pb2.LostLoanFound, _found),
    loan_events.LoanRenewed: (
        events_pb2.LoanRenewed,
        lambda e, z: {**_loan(e, z), "previous_due_time": timestamp(e.previous_due_at)},
    ),
    loan_events.LoanDueSoon: (
        events_pb2.LoanDueSoon,
        lambda e, z: {**_loan(e, z), "step": e.step, "renewable": e.renewable},
    ),
    loan_events.LoanOverdue: (events_pb2.LoanOverdue, _overdue),
    unrecorded.UnrecordedLoanReturned: (
        events_pb2.UnrecordedLoanReturned,
        lambda e, z: {**_loan(e, z), "returned_by": e.returned_by, "reason": e.reason},
    ),
    fines.FineAssessed: (events_pb2.FineAssessed, lambda e, _: {"fine": fine_to_proto(e.fine), "book": e.book}),
    fines.FinePaid: (
        events_pb2.FinePaid,
        lambda e, _: {"fine": fine_to_proto(e.fine), "amount": money(e.amount), "payment_method": e.method},
    ),
    fines.FineWaived: (events_pb2.FineWaived, lambda e, _: {"fine": fine_to_proto(e.fine), "waived_by": e.waived_by}),
    hold_events.HoldPlaced: (events_pb2.HoldPlaced, lambda e, _: {"hold": hold_to_proto(e.hold)}),
    hold_events.HoldInTransit: (
        events_pb2.HoldInTransit,
        lambda e, _: {"hold": hold_to_proto(e.hold), "from_branch": e.from_branch, "to_branch": e.to_branch},
    ),
    hold_events.HoldReady: (events_pb2.HoldReady, lambda e, _: {"hold": hold_to_proto(e.hold)}),
    hold_events.HoldCopyReceived: (
        events_pb2.HoldCopyReceived,
        lambda e, _: {"hold": hold_to_proto(e.hold), "branch": e.branch},
    ),
    hold_events.HoldCopyMissing: (
        events_pb2.HoldCopyMissing,
        lambda e, _: {
            "hold": hold_to_proto(e.hold),
            "copy": e.copy,
            "reported_by": e.reported_by,
            "copy_status": resources_pb2.HeldCopyStatus.Value(f"HELD_COPY_STATUS_{e.copy_status}"),
            "previous_status": hold_status_to_proto(e.previous_status) if e.previous_status else None,
        },
    ),
    hold_events.HoldPassedOver: (
        events_pb2.HoldPassedOver,
        lambda e, _: {
            "hold": hold_to_proto(e.hold),
            "copy": e.copy,
            "previous_status": hold_status_to_proto(e.previous_status),
        },
    ),
    hold_events.HoldPickupBranchChanged: (
        events_pb2.HoldPickupBranchChanged,
        lambda e, _: {
            "hold": hold_to_proto(e.hold),
            "previous_pickup_branch": e.previous_pickup_branch,
            "changed_by": e.changed_by,
        },
    ),
    hold_events.HoldFulfilled: (events_pb2.HoldFulfilled, lambda e, _: {"hold": hold_to_proto(e.hold)}),
    hold_events.HoldCancelled: (
        events_pb2.HoldCancelled,
        lambda e, _: {
            "hold": hold_to_proto(e.hold),
            "previous_status": hold_status_to_proto(e.previous_status),
            "by_patron": e.by_patron,
        },
    ),
    hold_events.HoldExpired: (
        events_pb2.HoldExpired,
        lambda e, _: {"hold": hold_to_proto(e.hold), "next_reader_waiting": e.next_reader_waiting},
    ),
    rules.CirculationRuleChanged: (events_pb2.CirculationRuleChanged, lambda e, _: _rule_changed(e)),
    calendar.ClosedDayChanged: (
        events_pb2.ClosedDayChanged,
        lambda e, _: {"closed_day": closed_day_to_proto(e.closed_day), "deleted": e.deleted},
    ),
}

_RULE_PATHS = {"hard_due_at": "hard_due_time"}
"""RuleTerms' field names that the CirculationRule resource spells otherwise."""


def _rule_changed(event: rules.CirculationRuleChanged) -> dict[str, Any]:
    """The rule as it is (a deleted one as it was: which rule, lending by what), and for an update the fields
    it changed with their values before."""
    found: dict[str, Any] = {
        "circulation_rule": rule_to_proto(event.rule),
        "deleted": event.deleted,
        "note": event.note,
    }
    if event.previous is not None:
        paths = [_RULE_PATHS.get(name, name) for name in event.changed]
        before = rule_to_proto(replace(event.rule, terms=event.previous))
        found |= {"update_mask": FieldMask(paths=paths), "previous_values": previous_values(before, paths)}
    return found


def encoder(zone: tzinfo) -> Callable[[DomainEvent], OutboxMessage]:
    """What the unit of work encodes loans events with, for a library in `zone`."""
    return partial(encode, zone=zone)


def encode(event: DomainEvent, *, zone: tzinfo) -> OutboxMessage:
    """The outbox message for a loans domain event (a loan's overdue days counted in the dates of `zone`)."""
    try:
        message_type, fields = _PAYLOADS[type(event)]
    except KeyError:
        raise TypeError(f"no wire format for {type(event).__name__}") from None
    payload = message_type(
        event_id=str(event.event_id),
        occur_time=timestamp(event.occurred_at),
        **{key: value for key, value in fields(event, zone).items() if value is not None},
    )
    return outbox_message("loans", payload, event_id=event.event_id, occurred_at=event.occurred_at)
