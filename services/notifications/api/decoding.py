"""The loans' events -> what notifications make of them (Intakes): notices of loans, holds and fines, the
reminders they schedule and end. With decoding_users.py and decoding_catalog.py, the only places that know
other services' payloads."""

from __future__ import annotations

import math
import uuid
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation

from google.protobuf.message import Message

from athenaeum.loans.v1 import events_pb2 as loans
from athenaeum.loans.v1 import resources_pb2
from services.notifications.domain.kinds import Kind
from services.notifications.domain.occurrences import (
    Ending,
    Intake,
    Occurrence,
    hold_expiry_reminder,
    reminder_step_key,
)
from services.notifications.domain.recipients import USER
from services.notifications.domain.wording import Fact, Money
from services.support.runtime.wire import event_subject, to_datetime


def _occurrence(event: Message, kind: Kind, patron: str, facts: Mapping[str, Fact], trace: Mapping[str, str], *,
                step_key: str = "", book: str = "", about: str = "",
                stale_at: datetime | None = None) -> Occurrence:  # fmt: skip
    payload: loans.LoanIssued = event  # type: ignore[assignment]  # every event has event_id and occur_time
    return Occurrence(
        event_id=uuid.UUID(payload.event_id),
        occurred_at=to_datetime(payload.occur_time),
        kind=kind,
        recipient_id=USER.parse_id(patron, field="patron"),
        facts=facts,
        step_key=step_key,
        trace=dict(trace),
        book=book,
        about=about,
        stale_at=stale_at,
    )


def _ending(event: Message, about: str, reason: str) -> Ending:
    payload: loans.LoanReturned = event  # type: ignore[assignment]  # every event has an occur_time
    return Ending(about, to_datetime(payload.occur_time), reason)


def _loan_facts(loan: resources_pb2.Loan) -> dict[str, Fact]:
    return {"book_title": loan.book_title, "due_date": to_datetime(loan.due_time), "barcode": loan.barcode}


def _money(amount: str) -> Decimal | str:
    try:
        return Decimal(amount)
    except InvalidOperation:
        return amount


class LoansDecoder:
    """Loans events -> Intakes; `hold_notice` is how long before a pickup deadline the patron is reminded."""

    def __init__(self, *, hold_notice: timedelta) -> None:
        self._hold_notice = hold_notice
        self._by_subject: dict[str, tuple[type[Message], Callable[[Message, Mapping[str, str]], Intake | None]]] = {
            event_subject("loans", kind()): (kind, handler)
            for kind, handler in (
                (loans.LoanIssued, self._issued),
                (loans.LoanReturned, self._returned),
                (loans.LoanDeclaredLost, self._declared_lost),
                (loans.LoanRenewed, self._renewed),
                (loans.LoanDueSoon, self._due_soon),
                (loans.LoanOverdue, self._overdue),
                (loans.HoldReady, self._hold_ready),
                (loans.HoldFulfilled, self._hold_collected),
                (loans.HoldCancelled, self._hold_cancelled),
                (loans.HoldCopyMissing, self._hold_copy_missing),
                (loans.HoldPassedOver, self._hold_passed_over),
                (loans.HoldPickupBranchChanged, self._hold_pickup_changed),
                (loans.HoldExpired, self._hold_expired),
                (loans.FineAssessed, self._fine),
            )
        }

    def intake(self, subject: str, data: bytes, *, trace: Mapping[str, str]) -> Intake | None:
        """None for an event nobody is told about; DecodeError / ValueError for garbage."""
        found = self._by_subject.get(subject)
        if found is None:
            return None
        message_type, handler = found
        return handler(message_type.FromString(data), trace)

    def _issued(self, e: Message, trace: Mapping[str, str]) -> Intake:
        ev: loans.LoanIssued = e  # type: ignore[assignment]
        return _one(_occurrence(ev, Kind.LOAN_ISSUED, ev.loan.patron, _loan_facts(ev.loan), trace))

    def _returned(self, e: Message, trace: Mapping[str, str]) -> Intake:
        ev: loans.LoanReturned = e  # type: ignore[assignment]
        facts: dict[str, Fact] = {"book_title": ev.loan.book_title, "barcode": ev.loan.barcode}
        facts["overdue_days"] = ev.overdue_days
        if ev.HasField("fine") and ev.fine.amount:
            amount = _money(ev.fine.amount)
            facts["fine_amount"] = (
                Money(amount, ev.fine.currency_code)
                if isinstance(amount, Decimal)
                else f"{ev.fine.amount} {ev.fine.currency_code}".strip()
            )
        returned = _occurrence(ev, Kind.LOAN_RETURNED, ev.loan.patron, facts, trace)
        ends = (_ending(ev, ev.loan.name, "the loan was returned"),)
        return Intake(returned.event_id, occurrences=(returned,), ends=ends)

    def _declared_lost(self, e: Message, trace: Mapping[str, str]) -> Intake:
        """Nothing to tell beyond the LOST_ITEM fine's own notice; reminders of the loan still waiting are moot."""
        ev: loans.LoanDeclaredLost = e  # type: ignore[assignment]
        return Intake(uuid.UUID(ev.event_id), ends=(_ending(ev, ev.loan.name, "the loan was declared lost"),))

    def _renewed(self, e: Message, trace: Mapping[str, str]) -> Intake:
        ev: loans.LoanRenewed = e  # type: ignore[assignment]
        facts = {**_loan_facts(ev.loan), "previous_due_date": to_datetime(ev.previous_due_time)}
        renewed = _occurrence(ev, Kind.LOAN_RENEWED, ev.loan.patron, facts, trace)
        ends = (_ending(ev, ev.loan.name, "the loan was renewed: it is due later"),)
        return Intake(renewed.event_id, occurrences=(renewed,), ends=ends)

    def _due_soon(self, e: Message, trace: Mapping[str, str]) -> Intake:
        ev: loans.LoanDueSoon = e  # type: ignore[assignment]
        due = to_datetime(ev.loan.due_time)
        left = max(math.ceil((due - to_datetime(ev.occur_time)) / timedelta(days=1)), 0)
        key = reminder_step_key(ev.loan.name, Kind.DUE_SOON, due, ev.step)
        # "yes" while a renewal could extend it ("": the reminder does not invite one the loans service refuses,
        # renewals used up or the rule's hard due date reached); a publisher that does not say: renewals left
        said = ev.renewable if ev.HasField("renewable") else ev.loan.renewal_count < ev.loan.max_renewals
        renewable = "yes" if said else ""
        facts = {**_loan_facts(ev.loan), "days_left": left, "can_renew": renewable}
        return _one(
            _occurrence(ev, Kind.DUE_SOON, ev.loan.patron, facts, trace, step_key=key, about=ev.loan.name, stale_at=due)
        )

    def _overdue(self, e: Message, trace: Mapping[str, str]) -> Intake:
        ev: loans.LoanOverdue = e  # type: ignore[assignment]
        due = to_datetime(ev.loan.due_time)
        key = reminder_step_key(ev.loan.name, Kind.OVERDUE, due, ev.step or f"day-{ev.overdue_days}")
        facts = {**_loan_facts(ev.loan), "overdue_days": ev.overdue_days, "notice_number": ev.step or ""}
        return _one(_occurrence(ev, Kind.OVERDUE, ev.loan.patron, facts, trace, step_key=key, about=ev.loan.name))

    def _hold_ready(self, e: Message, trace: Mapping[str, str]) -> Intake:
        ev: loans.HoldReady = e  # type: ignore[assignment]
        deadline = to_datetime(ev.hold.expire_time)
        facts: dict[str, Fact] = {"branch": ev.hold.pickup_branch, "pickup_deadline": deadline}
        ready = _occurrence(
            ev, Kind.HOLD_READY, ev.hold.patron, facts, trace, book=ev.hold.book, about=ev.hold.name, stale_at=deadline
        )
        schedule = hold_expiry_reminder(
            ready, hold=ev.hold.name, expires_at=deadline, notice=self._hold_notice, now=ready.occurred_at
        )
        return Intake(ready.event_id, occurrences=(ready,), schedule=schedule)

    def _hold_collected(self, e: Message, trace: Mapping[str, str]) -> Intake:
        ev: loans.HoldFulfilled = e  # type: ignore[assignment]
        ends = (_ending(ev, ev.hold.name, "the hold was collected"),)
        return Intake(uuid.UUID(ev.event_id), cancel=(ev.hold.name,), ends=ends)

    def _hold_cancelled(self, e: Message, trace: Mapping[str, str]) -> Intake:
        """The reader is told when staff or the system cancelled a hold whose copy was set aside for them (they
        were told, or were about to be, that it waits): not of their own cancel, nor of a place in the queue."""
        ev: loans.HoldCancelled = e  # type: ignore[assignment]
        ends = (_ending(ev, ev.hold.name, "the hold was cancelled"),)
        set_aside = ev.previous_status in _SET_ASIDE
        if not (set_aside and ev.HasField("by_patron") and not ev.by_patron):
            return Intake(uuid.UUID(ev.event_id), cancel=(ev.hold.name,), ends=ends)
        facts: dict[str, Fact] = {"branch": ev.hold.pickup_branch, "reason": ev.hold.cancel_reason}
        told = _occurrence(ev, Kind.HOLD_CANCELLED, ev.hold.patron, facts, trace, book=ev.hold.book)
        return Intake(told.event_id, occurrences=(told,), cancel=(ev.hold.name,), ends=ends)

    def _hold_copy_missing(self, e: Message, trace: Mapping[str, str]) -> Intake:
        """Staff could not find the copy set aside for the hold, or took it out of circulation: the hold waits
        again (only a hold with a copy set aside can lose it, so its reader is told whatever the publisher says
        of the status before)."""
        ev: loans.HoldCopyMissing = e  # type: ignore[assignment]
        why = _WHY.get(ev.copy_status, "missing")
        return _requeued(ev, ev.hold, why, ev.previous_status, trace)

    def _hold_passed_over(self, e: Message, trace: Mapping[str, str]) -> Intake:
        """The hold's copy went on to the queue, as its reader may not borrow now: the hold waits again."""
        ev: loans.HoldPassedOver = e  # type: ignore[assignment]
        return _requeued(ev, ev.hold, "may_not_borrow", ev.previous_status, trace)

    def _hold_pickup_changed(self, e: Message, trace: Mapping[str, str]) -> Intake | None:
        """Staff moved a waiting hold to another branch: its reader is told where to come (Evergreen notifies of a
        hold's change). Not the reader who chose it themselves, nor of a change by someone the event does not name."""
        ev: loans.HoldPickupBranchChanged = e  # type: ignore[assignment]
        if not ev.changed_by or ev.changed_by == ev.hold.patron:
            return None
        facts: dict[str, Fact] = {"branch": ev.hold.pickup_branch, "previous_branch": ev.previous_pickup_branch}
        return _one(_occurrence(ev, Kind.HOLD_PICKUP_CHANGED, ev.hold.patron, facts, trace, book=ev.hold.book))

    def _hold_expired(self, e: Message, trace: Mapping[str, str]) -> Intake:
        ev: loans.HoldExpired = e  # type: ignore[assignment]
        # "yes": the copy went to a reader waiting for it; "no": back on the shelf; "": the publisher does not say
        passed_on = ("yes" if ev.next_reader_waiting else "no") if ev.HasField("next_reader_waiting") else ""
        facts: dict[str, Fact] = {"branch": ev.hold.pickup_branch, "passed_on": passed_on}
        expired = _occurrence(ev, Kind.HOLD_EXPIRED, ev.hold.patron, facts, trace, book=ev.hold.book)
        ends = (_ending(ev, ev.hold.name, "the hold expired"),)
        return Intake(expired.event_id, occurrences=(expired,), cancel=(ev.hold.name,), ends=ends)

    def _fine(self, e: Message, trace: Mapping[str, str]) -> Intake:
        ev: loans.FineAssessed = e  # type: ignore[assignment]
        fine = ev.fine
        facts = {"amount": _money(fine.amount), "currency": fine.currency_code, "description": fine.description}
        # The title comes from the catalog, by the book of the fine's loan (none for a charge about no loan).
        return _one(_occurrence(ev, Kind.FINE_ASSESSED, fine.patron, facts, trace, book=ev.book))


_SET_ASIDE = (resources_pb2.HOLD_STATUS_READY, resources_pb2.HOLD_STATUS_IN_TRANSIT)
"""A hold's statuses with a copy set aside for its reader (on the hold shelf, or on its way there)."""


_WHY = {
    resources_pb2.HELD_COPY_STATUS_LOST: "missing",
    resources_pb2.HELD_COPY_STATUS_DAMAGED: "damaged",
    resources_pb2.HELD_COPY_STATUS_WITHDRAWN: "withdrawn",
}
"""What became of a hold's copy (HoldCopyMissing's copy_status) -> the `why` of its reader's notice."""


def _requeued(event: Message, hold: resources_pb2.Hold, why: str, before: int, trace: Mapping[str, str]) -> Intake:
    """The reader of a hold back in the queue is told once (the occurrence takes the event's id, so a redelivered
    event tells nothing more); its pickup reminder is moot and a "ready" notice still waiting is not sent."""
    was_ready = "yes" if before == resources_pb2.HOLD_STATUS_READY else ""
    facts: dict[str, Fact] = {"branch": hold.pickup_branch, "why": why, "was_ready": was_ready}
    told = _occurrence(event, Kind.HOLD_REQUEUED, hold.patron, facts, trace, book=hold.book)
    ends = (_ending(event, hold.name, "the hold went back to the queue"),)
    return Intake(told.event_id, occurrences=(told,), cancel=(hold.name,), ends=ends)


def _one(occurrence: Occurrence) -> Intake:
    return Intake(occurrence.event_id, occurrences=(occurrence,))
