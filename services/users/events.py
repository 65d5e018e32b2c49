"""Users domain events -> proto payloads on JetStream (subject athenaeum.users.<event>.v1)."""

from __future__ import annotations

from google.protobuf.field_mask_pb2 import FieldMask
from google.protobuf.message import Message

from athenaeum.users.v1 import events_pb2
from services.support.runtime.outbox import OutboxMessage
from services.support.runtime.wire import outbox_message, timestamp
from services.users.domain import UserRegistered, UserStatusChanged, UserUpdated
from services.users.service import STATUSES, user_to_proto
from services.users.sessions import SessionRevoked, UserLoggedIn, UserLoginFailed


def _payload(event: object) -> tuple[str, Message]:
    at = timestamp(event.occurred_at)  # type: ignore[attr-defined]
    match event:
        case UserRegistered():
            user = user_to_proto(event.user, now=event.occurred_at)
            return "user_registered", events_pb2.UserRegistered(occur_time=at, user=user, created_by=event.created_by)
        case UserUpdated():
            return "user_updated", events_pb2.UserUpdated(
                occur_time=at,
                user=user_to_proto(event.user, now=event.occurred_at),
                update_mask=FieldMask(paths=list(event.update_mask)),
                updated_by=event.updated_by,
            )
        case UserStatusChanged():
            return "user_status_changed", events_pb2.UserStatusChanged(
                occur_time=at,
                name=event.name,
                previous_status=STATUSES[event.previous_status],
                status=STATUSES[event.status],
                reason=event.reason,
                changed_by=event.changed_by,
            )
        case UserLoggedIn():
            return "user_logged_in", events_pb2.UserLoggedIn(occur_time=at, name=event.name)
        case UserLoginFailed():
            return "user_login_failed", events_pb2.UserLoginFailed(
                occur_time=at, email=event.email, reason=event.reason
            )
        case SessionRevoked():
            return "session_revoked", events_pb2.SessionRevoked(
                occur_time=at,
                session_id=str(event.session_id),
                name=event.name,
                reason=event.reason,
                expire_time=timestamp(event.expires_at),
            )
    raise TypeError(f"no wire format for {type(event).__name__}")


def encode(event: object) -> OutboxMessage:
    """The outbox message for a users domain event."""
    _, payload = _payload(event)
    event_id = event.event_id  # type: ignore[attr-defined]
    payload.event_id = str(event_id)  # type: ignore[attr-defined]
    return outbox_message("users", payload, event_id=event_id, occurred_at=event.occurred_at)  # type: ignore[attr-defined]
