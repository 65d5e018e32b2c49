"""Loans and users events as notifications reads them."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from google.protobuf.message import DecodeError

from athenaeum.loans.v1 import events_pb2 as loans
from athenaeum.loans.v1 import resources_pb2
from athenaeum.users.v1 import events_pb2 as users
from athenaeum.users.v1 import users_pb2
from services.notifications.api.decoding import LoansDecoder
from services.notifications.api.decoding_users import USERS_EVENTS_READ, UsersUpdate, users_update
from services.notifications.domain.kinds import Kind
from services.notifications.domain.recipients import AccountStatus
from services.support.runtime.wire import event_subject, timestamp

from .conftest import NOON

PATRON = f"users/{uuid.uuid4()}"
DECODER = LoansDecoder(hold_notice=timedelta(hours=24))


def _overdue(step: int, days: int = 8) -> loans.LoanOverdue:
    loan = resources_pb2.Loan(name="loans/l1", patron=PATRON, book_title="Dead Souls", due_time=timestamp(NOON))
    return loans.LoanOverdue(
        event_id=str(uuid.uuid4()), occur_time=timestamp(NOON), loan=loan, overdue_days=days, step=step
    )


def _intake(event):
    return DECODER.intake(event_subject("loans", event), event.SerializeToString(), trace={})


def test_one_overdue_step_is_one_key_whatever_its_event_id() -> None:
    first, again, next_step = _intake(_overdue(2)), _intake(_overdue(2)), _intake(_overdue(3))
    key = first.occurrences[0].step_key
    assert key == again.occurrences[0].step_key != next_step.occurrences[0].step_key
    assert first.event_id != again.event_id and first.occurrences[0].kind == Kind.OVERDUE


def test_an_unnumbered_overdue_notice_is_named_by_its_days() -> None:
    assert _intake(_overdue(0, days=7)).occurrences[0].step_key != _intake(_overdue(0, days=14)).occurrences[0].step_key


def test_a_ready_hold_schedules_its_reminder_and_its_end_cancels_it() -> None:
    hold = resources_pb2.Hold(name="holds/h1", patron=PATRON, book="books/b1", pickup_branch="main",
                              expire_time=timestamp(NOON + timedelta(days=3)))  # fmt: skip
    ready = _intake(loans.HoldReady(event_id=str(uuid.uuid4()), occur_time=timestamp(NOON), hold=hold))
    assert ready.occurrences[0].book == "books/b1" and ready.schedule[0].key == "holds/h1"
    ended = _intake(loans.HoldFulfilled(event_id=str(uuid.uuid4()), occur_time=timestamp(NOON), hold=hold))
    assert ended.cancel == ("holds/h1",) and ended.occurrences == ()


@pytest.mark.parametrize(("waiting", "passed_on"), [(True, "yes"), (False, "no"), (None, "")])
def test_an_expired_hold_tells_whether_the_copy_went_to_the_next_reader(waiting, passed_on) -> None:
    hold = resources_pb2.Hold(name="holds/h1", patron=PATRON, book="books/b1", pickup_branch="main")
    event = loans.HoldExpired(event_id=str(uuid.uuid4()), occur_time=timestamp(NOON), hold=hold)
    if waiting is not None:  # unset: a publisher that does not say
        event.next_reader_waiting = waiting
    (expired,) = _intake(event).occurrences
    assert expired.kind == Kind.HOLD_EXPIRED and expired.facts["passed_on"] == passed_on


def test_events_nobody_is_told_about_give_nothing_and_garbage_raises() -> None:
    rule = loans.CirculationRuleChanged(event_id=str(uuid.uuid4()))
    assert _intake(rule) is None
    with pytest.raises((DecodeError, ValueError)):
        DECODER.intake(event_subject("loans", loans.LoanOverdue()), b"\xff\xff garbage", trace={})


def test_a_registration_updates_the_projection_and_welcomes() -> None:
    user = users_pb2.User(name=PATRON, email="ada@example.org", status=users_pb2.USER_STATUS_ACTIVE, etag='W/"3"',
                          card_number="2900", locale="ru")  # fmt: skip
    event = users.UserRegistered(event_id=str(uuid.uuid4()), occur_time=timestamp(NOON), user=user)
    update = users_update(event_subject("users", event), event.SerializeToString(), trace={})
    assert update.profile.recipient.version == 3 and update.profile.recipient.status == AccountStatus.ACTIVE
    assert update.intake.occurrences[0].kind == Kind.WELCOME


def test_only_a_stolen_session_is_worth_a_security_notice() -> None:
    for reason, told in (("logout", False), ("refresh_token_reuse", True)):
        event = users.SessionRevoked(event_id=str(uuid.uuid4()), occur_time=timestamp(NOON), name=PATRON, reason=reason)
        update = users_update(event_subject("users", event), event.SerializeToString(), trace={})
        assert (update.intake is not None) == told


def test_the_users_events_the_consumer_is_not_handed_change_nothing_here() -> None:
    left_out = []
    for message in users.DESCRIPTOR.message_types_by_name.values():
        event = users.__dict__[message.name]()
        for name, value in (("event_id", str(uuid.uuid4())), ("name", PATRON), ("reason", "refresh_token_reuse")):
            if name in message.fields_by_name:
                setattr(event, name, value)
        if "occur_time" in message.fields_by_name:
            event.occur_time.CopyFrom(timestamp(NOON))
        subject = event_subject("users", event)
        if subject not in USERS_EVENTS_READ:
            left_out.append(message.name)
            assert users_update(subject, event.SerializeToString(), trace={}) == UsersUpdate(), message.name
    assert {"UserLoggedIn", "UserLoginFailed"} <= set(left_out)


def test_a_loan_declared_lost_tells_nothing_itself_and_ends_the_loan_s_waiting_reminders() -> None:
    loan = resources_pb2.Loan(name="loans/l1", patron=PATRON, book_title="Dead Souls", due_time=timestamp(NOON))
    lost = _intake(loans.LoanDeclaredLost(event_id=str(uuid.uuid4()), occur_time=timestamp(NOON), loan=loan))
    assert lost.occurrences == () and [(end.about, end.at) for end in lost.ends] == [("loans/l1", NOON)]


@pytest.mark.parametrize(
    ("before", "by_patron", "told"),
    [
        (resources_pb2.HOLD_STATUS_READY, False, True),  # staff, or the system closing the account
        (resources_pb2.HOLD_STATUS_IN_TRANSIT, False, True),
        (resources_pb2.HOLD_STATUS_READY, True, False),  # the reader's own cancel
        (resources_pb2.HOLD_STATUS_WAITING, False, False),  # no copy was set aside for them
        (resources_pb2.HOLD_STATUS_READY, None, False),  # a publisher that does not say
    ],
)
def test_a_set_aside_hold_cancelled_by_staff_tells_the_reader_why(before, by_patron, told) -> None:
    hold = resources_pb2.Hold(name="holds/h1", patron=PATRON, book="books/b1", pickup_branch="MAIN",
                              cancel_reason="copy damaged")  # fmt: skip
    event = loans.HoldCancelled(event_id=str(uuid.uuid4()), occur_time=timestamp(NOON), hold=hold)
    event.previous_status = before
    if by_patron is not None:
        event.by_patron = by_patron
    intake = _intake(event)
    assert intake.cancel == ("holds/h1",)  # its expiry reminder is moot either way
    if not told:
        assert intake.occurrences == ()
        return
    (cancelled,) = intake.occurrences
    assert (cancelled.kind, cancelled.book) == (Kind.HOLD_CANCELLED, "books/b1")
    assert str(cancelled.recipient_id) == PATRON.removeprefix("users/")
    assert (cancelled.facts["reason"], cancelled.facts["branch"]) == ("copy damaged", "MAIN")
