"""The users' events notifications reads (decoding.py has the loans', decoding_catalog.py the catalog's): the
recipients' projection (a profile, a status) and the security notices they bring (welcome, password changed or
reset, a session revoked for a reused refresh token)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime

from google.protobuf.message import Message

from athenaeum.users.v1 import events_pb2 as users
from athenaeum.users.v1 import users_pb2
from services.notifications.app.projection import ProfileSeen, StatusSeen
from services.notifications.domain.kinds import Kind
from services.notifications.domain.occurrences import Intake, Occurrence
from services.notifications.domain.recipients import USER, AccountStatus, ChannelChoice, Recipient
from services.notifications.domain.wording import Fact
from services.support.runtime.versioning import version_of
from services.support.runtime.wire import event_subject, to_datetime

STATUSES = {
    users_pb2.USER_STATUS_ACTIVE: AccountStatus.ACTIVE,
    users_pb2.USER_STATUS_BLOCKED: AccountStatus.BLOCKED,
    users_pb2.USER_STATUS_EXPIRED: AccountStatus.EXPIRED,
    users_pb2.USER_STATUS_DEACTIVATED: AccountStatus.DEACTIVATED,
}


@dataclass(frozen=True, slots=True)
class UsersUpdate:
    profile: ProfileSeen | None = None
    status: StatusSeen | None = None
    intake: Intake | None = None


def users_update(subject: str, data: bytes, *, trace: Mapping[str, str]) -> UsersUpdate:
    """What one users event changes here; an empty update for the events that change nothing (sign-ins)."""
    found = _USERS_EVENTS.get(subject)
    if found is None:
        return UsersUpdate()
    message_type, handler = found
    return handler(message_type.FromString(data), trace)


def _registered(e: Message, trace: Mapping[str, str]) -> UsersUpdate:
    registered: users.UserRegistered = e  # type: ignore[assignment]
    recipient = recipient_of(registered.user, status_at=to_datetime(registered.occur_time))
    welcome = _user_occurrence(
        registered, Kind.WELCOME, recipient.user_id, {"card_number": recipient.card_number}, trace
    )
    return UsersUpdate(profile=ProfileSeen(recipient), intake=_one(welcome))


def _updated(e: Message, trace: Mapping[str, str]) -> UsersUpdate:
    updated: users.UserUpdated = e  # type: ignore[assignment]
    return UsersUpdate(
        profile=ProfileSeen(
            recipient_of(updated.user, status_at=to_datetime(updated.occur_time)),
            updated_by=uuid.UUID(updated.event_id),
            trace=trace,
        )
    )


def _status_changed(e: Message, trace: Mapping[str, str]) -> UsersUpdate:
    changed: users.UserStatusChanged = e  # type: ignore[assignment]
    status = STATUSES.get(changed.status, AccountStatus.UNKNOWN)
    return UsersUpdate(status=StatusSeen(USER.parse_id(changed.name), status, to_datetime(changed.occur_time)))


def _password_changed(e: Message, trace: Mapping[str, str]) -> UsersUpdate:
    password: users.PasswordChanged = e  # type: ignore[assignment]
    facts = {"changed_at": to_datetime(password.occur_time)}
    return UsersUpdate(
        intake=_one(_user_occurrence(password, Kind.PASSWORD_CHANGED, USER.parse_id(password.name), facts, trace))
    )


def _password_reset_requested(e: Message, trace: Mapping[str, str]) -> UsersUpdate:
    requested: users.PasswordResetRequested = e  # type: ignore[assignment]
    facts: dict[str, Fact] = {"reset_token": requested.token, "expires_at": to_datetime(requested.expire_time)}
    occurrence = _user_occurrence(requested, Kind.PASSWORD_RESET, USER.parse_id(requested.name), facts, trace)
    # Not worth sending once the link no longer works.
    return UsersUpdate(intake=_one(replace(occurrence, stale_at=to_datetime(requested.expire_time))))


def _session_revoked(e: Message, trace: Mapping[str, str]) -> UsersUpdate:
    revoked: users.SessionRevoked = e  # type: ignore[assignment]
    if revoked.reason != "refresh_token_reuse":  # a sign-out, or one the owner caused: nothing to warn of
        return UsersUpdate()
    facts = {"revoked_at": to_datetime(revoked.occur_time)}
    return UsersUpdate(
        intake=_one(_user_occurrence(revoked, Kind.SESSION_REVOKED, USER.parse_id(revoked.name), facts, trace))
    )


_USERS_EVENTS: dict[str, tuple[type[Message], Callable[[Message, Mapping[str, str]], UsersUpdate]]] = {
    event_subject("users", kind()): (kind, handler)
    for kind, handler in (
        (users.UserRegistered, _registered),
        (users.UserUpdated, _updated),
        (users.UserStatusChanged, _status_changed),
        (users.PasswordChanged, _password_changed),
        (users.PasswordResetRequested, _password_reset_requested),
        (users.SessionRevoked, _session_revoked),
    )
}
USERS_EVENTS_READ = tuple(_USERS_EVENTS)
"""The users events `users_update` reads: the consumer is handed no other (sign-ins change nothing here)."""


def _user_occurrence(
    event: Message, kind: Kind, user_id: uuid.UUID, facts: Mapping[str, Fact], trace: Mapping[str, str]
) -> Occurrence:
    payload: users.PasswordChanged = event  # type: ignore[assignment]
    return Occurrence(
        uuid.UUID(payload.event_id), to_datetime(payload.occur_time), kind, user_id, facts, trace=dict(trace)
    )


def recipient_of(user: users_pb2.User, *, status_at: datetime) -> Recipient:
    """The users service's account as notifications keep it, the one reading of it (events and GetUser
    alike). `status_at` is when its status was known to hold, on the users service's clock (the status
    events' clock): the event's time for an event's snapshot, the account's `update_time` for one read now."""
    prefs = user.notification_preferences
    return Recipient(
        user_id=USER.parse_id(user.name, field="user.name"),
        email=user.email,
        phone=user.phone,
        display_name=user.display_name,
        card_number=user.card_number,
        home_branch=user.home_branch,
        locale=user.locale,
        time_zone=user.time_zone,
        status=STATUSES.get(user.status, AccountStatus.UNKNOWN),
        email_opt_in=prefs.email_opt_in,
        sms_opt_in=prefs.sms_opt_in,
        kinds={kind: ChannelChoice(c.email, c.sms) for kind, c in prefs.kinds.items()},
        version=version_of(user.etag),
        status_at=status_at,
    )


def _one(occurrence: Occurrence) -> Intake:
    return Intake(occurrence.event_id, occurrences=(occurrence,))
