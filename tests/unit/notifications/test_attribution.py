"""Staff messages and retries name the staff member: on the notification, and as the actor of its events
(the worker that delivers it commits with no user of its own)."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from athenaeum.notifications.v1 import events_pb2
from athenaeum.notifications.v1 import notifications_pb2 as pb
from services.notifications.api import convert, events
from services.notifications.app import delivering, sending, templating
from services.notifications.data.template_seeds import BUILTIN
from services.notifications.domain.delivery import Failed, Sent
from services.notifications.domain.kinds import Channel, Kind
from services.notifications.domain.notifications import NotificationFailed, NotificationSent
from services.notifications.domain.templates import TemplateUpdated
from services.support.runtime.errors import InvalidArgument
from services.support.runtime.identity import Identity, Role, set_current_identity
from services.support.runtime.messaging import ACTOR_HEADER

from .conftest import RULES
from .fakes import recipient
from .test_intake import _take, overdue

LIBRARIAN = "users/6a1f1d2e-0000-4000-8000-00000000000a"
SUPERVISOR = "users/6a1f1d2e-0000-4000-8000-00000000000b"


async def _deliver(db, clock, outcome):
    (claimed,) = await delivering.claim_due(
        delivering.ClaimDue(Channel.EMAIL, 10, "w1", timedelta(seconds=30)),
        uow=db.unit_of_work(),
        clock=clock,
        rules=RULES,
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


async def test_a_template_edit_is_an_event_naming_its_editor_and_the_new_version(db, clock, renderer) -> None:
    """An edit of a template (what every patron of its kind is sent) left no trace in the audit trail."""
    command = templating.UpdateTemplate(
        Kind.HOLD_READY, Channel.EMAIL, "en", {"body_template": "Ready: {{ book_title }}"}, editor=SUPERVISOR
    )
    await templating.update_template(command, uow=db.unit_of_work(), clock=clock, renderer=renderer)
    (event,) = db.published
    assert isinstance(event, TemplateUpdated) and event.template.updated_by == SUPERVISOR
    payload = events_pb2.NotificationTemplateUpdated.FromString(events.encode(event).payload)
    assert payload.updated_by == SUPERVISOR and payload.event_id == str(event.event_id)
    assert payload.template.name == "notificationTemplates/hold_ready_email_en" and payload.template.version == 2
    assert payload.template.body_template == "Ready: {{ book_title }}"


async def test_a_refused_template_edit_records_no_event(db, clock, renderer) -> None:
    command = templating.UpdateTemplate(Kind.HOLD_READY, Channel.EMAIL, "en", {"body_template": "{{ nope }}"})
    with pytest.raises(InvalidArgument):
        await templating.update_template(command, uow=db.unit_of_work(), clock=clock, renderer=renderer)
    assert db.published == []


async def test_the_api_shows_who_sent_and_retried_a_notification_and_who_edited_a_template(db, clock, renderer) -> None:
    ada = recipient(sms_opt_in=False)
    db.recipients[ada.user_id] = ada
    command = sending.SendMessage(ada.user_id, Channel.EMAIL, subject="Hi", body="Hello", sender=LIBRARIAN)
    sent = await sending.send_message(command, uow=db.unit_of_work(), clock=clock, renderer=renderer, rules=RULES)
    assert (convert.notification_to_proto(sent).sent_by, convert.notification_to_proto(sent).retried_by) == (
        LIBRARIAN,
        "",
    )
    sent.retried_by = SUPERVISOR
    assert convert.notification_to_proto(sent).retried_by == SUPERVISOR
    edited = replace(BUILTIN["hold_ready_email_en"], updated_by=SUPERVISOR)
    assert convert.template_to_proto(edited, used=frozenset()).updated_by == SUPERVISOR


async def test_a_notification_s_events_carry_no_personal_content_and_stay_small(db, clock, renderer) -> None:
    """A 4 MB message (a template may render one) made an event larger than the bus takes: it never left the outbox, and
    every later event of the service stayed behind it. The audit trail drops these fields anyway."""
    ada = recipient(sms_opt_in=False)
    db.recipients[ada.user_id] = ada
    body = "Closed on Monday. " * 500
    command = sending.SendMessage(ada.user_id, Channel.EMAIL, subject="Closed", body=body, sender=LIBRARIAN)
    sent = await sending.send_message(command, uow=db.unit_of_work(), clock=clock, renderer=renderer, rules=RULES)
    await _deliver(db, clock, Sent("<1@x>"))
    message = events.encode(db.published[0])
    payload = events_pb2.NotificationSent.FromString(message.payload)
    assert len(message.payload) < 2_000 and payload.notification.name == f"notifications/{sent.id}"
    assert (payload.notification.address, payload.notification.subject, payload.notification.body) == ("", "", "")
    assert not payload.notification.params and payload.notification.sent_by == LIBRARIAN
