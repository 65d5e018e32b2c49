"""Proto <-> domain for accounts and tokens: the users API's messages and enums, in one place."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from datetime import datetime
from typing import TypedDict

from athenaeum.users.v1 import users_pb2
from services.support.runtime.auth import current_identity
from services.support.runtime.errors import FieldViolation, InvalidArgument, PermissionDenied
from services.support.runtime.identity import Role
from services.support.runtime.wire import enum_member, timestamp, to_datetime
from services.users.app.ports import UserFilter
from services.users.app.signing_in import SignedIn
from services.users.domain.accounts import USER, Actor, Eligibility, User
from services.users.domain.profile import KindChoice, Profile, UserStatus
from services.users.domain.update_mask import OUTPUT_ONLY_FIELDS, PREFERENCES
from services.users.domain.validation import supported_locale

ROLES = {
    Role.READER: users_pb2.USER_ROLE_READER,
    Role.LIBRARIAN: users_pb2.USER_ROLE_LIBRARIAN,
    Role.ADMIN: users_pb2.USER_ROLE_ADMIN,
}
STATUSES = {
    UserStatus.ACTIVE: users_pb2.USER_STATUS_ACTIVE,
    UserStatus.BLOCKED: users_pb2.USER_STATUS_BLOCKED,
    UserStatus.EXPIRED: users_pb2.USER_STATUS_EXPIRED,
    UserStatus.DEACTIVATED: users_pb2.USER_STATUS_DEACTIVATED,
}
ROLE_OF = {value: key for key, value in ROLES.items()}
STATUS_OF = {value: key for key, value in STATUSES.items()}
ROLE_NAMES = " or ".join(users_pb2.UserRole.Name(value) for value in ROLES.values())
STATUS_NAMES = " or ".join(users_pb2.UserStatus.Name(value) for value in STATUSES.values())


def user_to_proto(user: User, *, now: datetime) -> users_pb2.User:
    """The account as clients see it; `status` is the effective one at `now` (EXPIRED once past expiry)."""
    p = user.profile
    return users_pb2.User(
        name=user.name,
        email=p.email,
        display_name=p.display_name,
        phone=p.phone,
        card_number=user.card_number,
        patron_category=p.patron_category,
        role=ROLES[p.role],
        status=STATUSES[user.effective_status(now)],
        notification_preferences=users_pb2.NotificationPreferences(
            email_opt_in=p.email_opt_in,
            sms_opt_in=p.sms_opt_in,
            kinds={c.kind: users_pb2.ChannelChoice(email=c.email, sms=c.sms) for c in p.kind_choices},
        ),
        home_branch=p.home_branch,
        status_reason=p.status_reason,
        expire_time=timestamp(p.expire_at),
        create_time=timestamp(user.created_at),
        update_time=timestamp(user.updated_at),
        etag=user.etag,
        locale=p.locale,
        time_zone=p.time_zone,
    )


def profile_from_proto(user: users_pb2.User, *, masked: Collection[str] = ()) -> Profile:
    """The writable fields as sent; unspecified enums and category take the defaults of a new reader. An enum
    the API does not define, or one left unspecified in a field an update names in `masked`, is
    INVALID_ARGUMENT: taking the default there would unblock a blocked patron or demote an admin."""
    violations = [
        violation
        for violation in (
            _enum_violation(user.role, ROLE_OF.keys(), field="role", names=ROLE_NAMES, masked=masked),
            _enum_violation(user.status, STATUS_OF.keys(), field="status", names=STATUS_NAMES, masked=masked),
        )
        if violation is not None
    ]
    if violations:
        raise InvalidArgument(violations)
    return Profile(
        email=user.email,
        display_name=user.display_name,
        phone=user.phone,
        patron_category=user.patron_category or "ADULT",
        role=ROLE_OF.get(user.role, Role.READER),
        status=STATUS_OF.get(user.status, UserStatus.ACTIVE),
        status_reason=user.status_reason,
        home_branch=user.home_branch,
        expire_at=to_datetime(user.expire_time) if user.HasField("expire_time") else None,
        locale=_locale(user.locale),
        time_zone=user.time_zone,
        **_opt_ins(user),
    )


def _locale(locale: str) -> str:
    """The supported language the tag names ("RU" -> "ru"); as sent when none, for the profile's check to refuse."""
    supported = supported_locale(locale)
    return locale if supported is None else supported


def _enum_violation(
    value: int, known: Collection[int], *, field: str, names: str, masked: Collection[str]
) -> FieldViolation | None:
    """Why `user.<field>` cannot be taken as sent (None when it can)."""
    if value in known or (value == 0 and field not in masked):
        return None
    if value == 0:
        return FieldViolation(f"user.{field}", f"must be {names}: the update_mask names it")
    return FieldViolation(f"user.{field}", f"must be {names}")


def registration_profile(request: users_pb2.RegisterRequest) -> Profile:
    """The fields a self-registering reader may set."""
    return Profile(
        email=request.email,
        display_name=request.display_name,
        phone=request.phone,
        locale=_locale(request.locale),
        time_zone=request.time_zone,
        **_opt_ins(request),
    )


class _OptIns(TypedDict):
    email_opt_in: bool
    sms_opt_in: bool
    kind_choices: tuple[KindChoice, ...]


def _opt_ins(message: users_pb2.User | users_pb2.RegisterRequest) -> _OptIns:
    """The notification preferences as sent; without any, email yes and SMS no."""
    if not message.HasField("notification_preferences"):
        return {"email_opt_in": True, "sms_opt_in": False, "kind_choices": ()}
    prefs = message.notification_preferences
    choices = tuple(KindChoice(kind, choice.email, choice.sms) for kind, choice in prefs.kinds.items())
    return {"email_opt_in": prefs.email_opt_in, "sms_opt_in": prefs.sms_opt_in, "kind_choices": choices}


def user_filter(request: users_pb2.ListUsersRequest) -> UserFilter:
    return UserFilter(
        role=enum_member(request.role, ROLE_OF, field="role", enum=users_pb2.UserRole.DESCRIPTOR),
        status=enum_member(request.status, STATUS_OF, field="status", enum=users_pb2.UserStatus.DESCRIPTOR),
        patron_category=request.patron_category,
        text=request.query.strip(),
    )


def update_mask_of(request: users_pb2.UpdateUserRequest) -> frozenset[str]:
    """The mask as given ("a.b" counts as "a", but for the parts of the notification preferences); without
    one, every field the client set (AIP-134), the preferences by the parts set in them: the new values are
    merged into the old, as protobuf merges a message. A bool sent false cannot be told from one not sent
    (proto3 has no presence for them), so switching a channel off takes a mask naming it."""
    if request.update_mask.paths:
        return frozenset(
            path if path.startswith(f"{PREFERENCES}.") else path.split(".")[0] for path in request.update_mask.paths
        )
    fields = frozenset(descriptor.name for descriptor, _ in request.user.ListFields()) - OUTPUT_ONLY_FIELDS
    return fields - {PREFERENCES} | _preference_paths(request.user.notification_preferences)


def _preference_paths(prefs: users_pb2.NotificationPreferences) -> frozenset[str]:
    """The parts of the preferences set in `prefs`, one path per kind ("notification_preferences.kinds.x")."""
    paths = {f"{PREFERENCES}.{descriptor.name}" for descriptor, _ in prefs.ListFields()} - {f"{PREFERENCES}.kinds"}
    return frozenset(paths | {f"{PREFERENCES}.kinds.{kind}" for kind in prefs.kinds})


def eligibility_to_proto(user: User, eligibility: Eligibility) -> users_pb2.BorrowingEligibility:
    return users_pb2.BorrowingEligibility(
        name=user.name,
        eligible=eligibility.eligible,
        status=STATUSES[eligibility.status],
        reasons=eligibility.reasons,
        patron_category=user.profile.patron_category,
        role=ROLES[user.profile.role],
        expire_time=timestamp(user.profile.expire_at),
        home_branch=user.profile.home_branch,
    )


def tokens_to_proto(signed_in: SignedIn) -> users_pb2.AuthTokens:
    return users_pb2.AuthTokens(
        access_token=signed_in.access.token,
        access_token_expire_time=timestamp(signed_in.access.expires_at),
        refresh_token=signed_in.refresh_token,
        refresh_token_expire_time=timestamp(signed_in.refresh_expires_at),
        token_type="Bearer",
    )


def current_actor() -> Actor:
    """The signed-in user behind this call, as the actor of a change."""
    identity = current_identity()
    if identity is None:
        raise PermissionDenied("this method acts for a signed-in user", reason="END_USER_REQUIRED")
    return Actor(identity.subject, identity.role)


def current_session_id() -> str:
    """The session of the signed-in user behind this call ("" for none)."""
    identity = current_identity()
    return identity.session_id if identity else ""


def resolve_user_id(name: str, *, field: str = "name") -> uuid.UUID:
    """The id a user name points at, "users/me" being the caller."""
    identity = current_identity()
    return USER.parse_id(identity.resolve(name) if identity else name, field=field)
