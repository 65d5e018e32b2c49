"""Staff messages and retries name the staff member: on the notification, and as the actor of its events
(the worker that delivers it commits with no user of its own)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from athenaeum.notifications.v1 import notifications_pb2 as pb
from services.notifications.api import convert, events
from services.notifications.app import delivering, sending
from services.notifications.domain.delivery import Failed, Sent
from services.notifications.domain.kinds import Channel
from services.notifications.domain.notifications import NotificationFailed, NotificationSent
from services.support.runtime.identity import Identity, Role, set_current_identity
from services.support.runtime.messaging import ACTOR_HEADER

from .conftest import RULES
from .fakes import recipient
from .test_intake import _take, overdue

LIBRARIAN = "users/6a1f1d2e-0000-4000-8000-00000000000a"
SUPERVISOR = "users/6a1f1d2e-0000-4000-8000-00000000000b"


async def _deliver(db, clock, outcome):
    (claimed,) = await delivering.claim_due(
        delivering.ClaimDue(Channel.EMAIL, 10, "w1", timedelta(seconds=30)), uow=db.unit_of_work(), clock=clock
    )
    await delivering.record_attempts(
        [delivering.Attempt(claimed, outcome)], worker="w1", uow=db.unit_of_work(), clock=clock, rules=RULES
    )


def _actors(db) -> list[str]:
    return [events.encode(event).headers.get(ACTOR_HEADER, "") for event in db.published]


async def test_a_staff_message_names_its_sender_on_it_and_in_its_events(db, clock, renderer) -> None:
    ada = recipient(sms_opt_in=False)
    db.recipients[ada.user_id] = ada
    command = sending.SendMessage(ada.user_id, Channel.EMAIL, subject="Hi", body="Hello", sender=LIBRARIAN)
    sent = await sending.send_message(command, uow=db.unit_of_work(), clock=clock, renderer=renderer, rules=RULES)
    assert sent.sent_by == db.notifications[sent.id].sent_by == LIBRARIAN
    await _deliver(db, clock, Sent("<1@x>"))
    assert [type(e) for e in db.published] == [NotificationSent] and _actors(db) == [LIBRARIAN]


async def test_a_retry_names_who_retried_it_in_the_events_that_follow(db, clock, renderer, catalog) -> None:
    ada = recipient(sms_opt_in=False)
    db.recipients[ada.user_id] = ada
    (queued,) = (await _take(db, clock, renderer, catalog, overdue(ada, 1))).queued
    await _deliver(db, clock, Failed("550 no such user", transient=False))
    retried = await sending.retry_notification(
        sending.RetryNotification(queued.id, by=SUPERVISOR), uow=db.unit_of_work(), clock=clock, rules=RULES
    )
    assert retried.retried_by == db.notifications[queued.id].retried_by == SUPERVISOR and retried.sent_by == ""
    await _deliver(db, clock, Failed("550 no such user", transient=False))
    assert [type(e) for e in db.published] == [NotificationFailed, NotificationFailed]
    assert _actors(db) == ["", SUPERVISOR]  # the first failure was the system's own


def test_the_caller_is_taken_from_the_signed_in_user() -> None:
    identity = Identity(LIBRARIAN, Role.LIBRARIAN, "s1", datetime.now(UTC) + timedelta(hours=1))
    set_current_identity(identity)
    try:
        request = pb.SendNotificationRequest(recipient=f"users/{uuid.uuid4()}", body="b", subject="s")
        assert convert.send_message(request).sender == LIBRARIAN
        retry = pb.RetryNotificationRequest(name=f"notifications/{uuid.uuid4()}")
        assert convert.retry_notification(retry).by == LIBRARIAN
    finally:
        set_current_identity(None)
