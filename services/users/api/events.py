"""Users domain events -> proto payloads on JetStream (subject athenaeum.users.<event>.v1)."""

from __future__ import annotations

from dataclasses import replace

from google.protobuf.field_mask_pb2 import FieldMask
from google.protobuf.message import Message

from athenaeum.users.v1 import events_pb2
from services.support.runtime.events import DomainEvent
from services.support.runtime.outbox import OutboxMessage
from services.support.runtime.previous_values import previous_values
from services.support.runtime.wire import outbox_message, timestamp
from services.users.api.convert import STATUSES, user_to_proto
from services.users.domain.accounts import PasswordChanged, UserRegistered, UserStatusChanged, UserUpdated
from services.users.domain.password_resets import PasswordResetRequested
from services.users.domain.sessions import SessionRevoked, UserLoggedIn
from services.users.domain.throttling import UserLoginFailed


def _payload(event: DomainEvent) -> Message:
    at = timestamp(event.occurred_at)
    match event:
        case UserRegistered():
            user = user_to_proto(event.user, now=event.occurred_at)
            return events_pb2.UserRegistered(occur_time=at, user=user, created_by=event.created_by)
        case UserUpdated():
            return events_pb2.UserUpdated(
                occur_time=at,
                user=user_to_proto(event.user, now=event.occurred_at),
                update_mask=FieldMask(paths=list(event.update_mask)),
                updated_by=event.updated_by,
                previous_values=_previous_values(event),
            )
        case UserStatusChanged():
            return events_pb2.UserStatusChanged(
                occur_time=at,
                name=event.name,
                previous_status=STATUSES[event.previous_status],
                status=STATUSES[event.status],
                reason=event.reason,
                changed_by=event.changed_by,
            )
        case PasswordChanged():
            return events_pb2.PasswordChanged(
                occur_time=at, name=event.name, changed_by=event.changed_by, method=event.method
            )
        case PasswordResetRequested():
            return events_pb2.PasswordResetRequested(
                occur_time=at,
                name=event.name,
                token=event.token,
                expire_time=timestamp(event.expires_at),
                requested_by=event.requested_by,
                client_address=event.client_address,
            )
        case UserLoggedIn():
            return events_pb2.UserLoggedIn(occur_time=at, name=event.name)
        case UserLoginFailed():
            return events_pb2.UserLoginFailed(
                occur_time=at,
                email=event.email,
                reason=event.reason,
                name=event.name,
                attempted_by=event.attempted_by,
                client_address=event.client_address,
                refused_attempts=event.refused_attempts,
            )
        case SessionRevoked():
            return events_pb2.SessionRevoked(
                occur_time=at,
                session_id=str(event.session_id),
                name=event.name,
                reason=event.reason,
                expire_time=timestamp(event.expires_at),
            )
    raise TypeError(f"no wire format for {type(event).__name__}")


def _previous_values(event: UserUpdated) -> dict[str, str]:
    if event.previous is None:
        return {}
    before = user_to_proto(replace(event.user, profile=event.previous), now=event.occurred_at)
    return previous_values(before, event.update_mask)


def encode(event: DomainEvent) -> OutboxMessage:
    """The outbox message for a users domain event."""
    payload = _payload(event)
    payload.event_id = str(event.event_id)  # type: ignore[attr-defined]  # every users event payload has one
    return outbox_message("users", payload, event_id=event.event_id, occurred_at=event.occurred_at)
