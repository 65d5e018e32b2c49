"""Notifications domain events -> proto payloads on JetStream (subject athenaeum.notifications.<event>.v1)."""

from __future__ import annotations

from dataclasses import replace
from typing import Literal

from google.protobuf.message import Message

from athenaeum.notifications.v1 import events_pb2, notifications_pb2
from services.notifications.api.convert import notification_to_proto, template_to_proto
from services.notifications.domain.notifications import Notification, NotificationFailed, NotificationSent
from services.notifications.domain.templates import TemplateUpdated
from services.support.runtime.events import DomainEvent
from services.support.runtime.messaging import ACTOR_HEADER
from services.support.runtime.outbox import OutboxMessage
from services.support.runtime.wire import outbox_message, timestamp

PERSONAL: tuple[Literal["address", "params", "subject", "body"], ...] = ("address", "params", "subject", "body")
"""A notification's fields its events leave out: personal data the audit trail must not keep, and the body
may be far larger than a message on the bus may be (one too large would never leave the outbox)."""


def _without_personal_data(notification: Notification) -> notifications_pb2.Notification:
    message = notification_to_proto(notification)
    for name in PERSONAL:
        message.ClearField(name)
    return message


def _payload(event: DomainEvent) -> Message:
    match event:
        case NotificationSent():
            return events_pb2.NotificationSent(
                occur_time=timestamp(event.occurred_at), notification=_without_personal_data(event.notification)
            )
        case NotificationFailed():
            return events_pb2.NotificationFailed(
                occur_time=timestamp(event.occurred_at), notification=_without_personal_data(event.notification)
            )
        case TemplateUpdated():
            return events_pb2.NotificationTemplateUpdated(
                occur_time=timestamp(event.occurred_at),
                template=template_to_proto(event.template, used=frozenset()),
                updated_by=event.template.updated_by,
            )
    raise TypeError(f"no wire format for {type(event).__name__}")


def encode(event: DomainEvent) -> OutboxMessage:
    """The outbox message for a notifications domain event; one about a notification staff sent or retried
    names them as its actor (the worker that delivers it commits with no user of its own)."""
    payload = _payload(event)
    payload.event_id = str(event.event_id)  # type: ignore[attr-defined]  # every payload here has one
    message = outbox_message("notifications", payload, event_id=event.event_id, occurred_at=event.occurred_at)
    actor = _actor(event)
    return replace(message, headers={**message.headers, ACTOR_HEADER: actor}) if actor else message


def _actor(event: DomainEvent) -> str:
    match event:
        case NotificationSent() | NotificationFailed():
            return event.notification.actor
    return ""
