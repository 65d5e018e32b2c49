"""Patrons and staff: what a valid account is and who may change what. Pure: no I/O, no grpc, no sqlalchemy."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum

from services.support.runtime.errors import FieldViolation, InvalidArgument, NotFound, PermissionDenied
from services.support.runtime.versioning import Versioned
from services.users.validation import (
    category_violation,
    new_card_number,
    normalize_email,
    phone_violation,
)


class UserRole(StrEnum):
    """The same words as the `role` claim of access tokens."""

    READER = "reader"
    LIBRARIAN = "librarian"
    ADMIN = "admin"


class UserStatus(StrEnum):
    ACTIVE = "active"
    BLOCKED = "blocked"
    EXPIRED = "expired"
    DEACTIVATED = "deactivated"


STAFF = frozenset({UserRole.LIBRARIAN, UserRole.ADMIN})
OUTPUT_ONLY_FIELDS = frozenset({"name", "card_number", "create_time", "update_time", "etag"})
READER_FIELDS = frozenset({"email", "display_name", "phone", "notification_preferences", "home_branch"})
LIBRARIAN_FIELDS = READER_FIELDS | {"patron_category", "status", "status_reason", "expire_time"}
ADMIN_FIELDS = LIBRARIAN_FIELDS | {"role"}
WRITABLE_BY = {UserRole.READER: READER_FIELDS, UserRole.LIBRARIAN: LIBRARIAN_FIELDS, UserRole.ADMIN: ADMIN_FIELDS}


@dataclass(frozen=True, slots=True)
class Actor:
    """Who asks for a change: "users/{id}" and their role."""

    name: str
    role: UserRole

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF


@dataclass(frozen=True, slots=True)
class Profile:
    """The fields of an account that can be written (by whom: see WRITABLE_BY)."""

    email: str
    display_name: str = ""
    phone: str = ""
    patron_category: str = "ADULT"
    role: UserRole = UserRole.READER
    status: UserStatus = UserStatus.ACTIVE
    status_reason: str = ""
    home_branch: str = ""
    expire_at: datetime | None = None
    email_opt_in: bool = True
    sms_opt_in: bool = False

    def violations(self, *, prefix: str = "user.") -> list[FieldViolation]:
        """Every bad field, named as the request names it (`user.email`, or `email` with prefix="")."""
        violations: list[FieldViolation] = []
        try:
            normalize_email(self.email, field=f"{prefix}email")
        except InvalidArgument as error:
            violations.extend(error.violations)
        for check in (
            phone_violation(self.phone, field=f"{prefix}phone"),
            category_violation(self.patron_category, field=f"{prefix}patron_category"),
        ):
            if check is not None:
                violations.append(check)
        if len(self.display_name) > 200:
            violations.append(FieldViolation(f"{prefix}display_name", "must be at most 200 characters"))
        return violations

    def validated(self) -> Profile:
        """A cleaned copy, or InvalidArgument naming every bad field."""
        if violations := self.violations():
            raise InvalidArgument(violations)
        email = normalize_email(self.email)
        return replace(self, email=email, display_name=self.display_name.strip(), home_branch=self.home_branch.strip())


@dataclass(frozen=True, slots=True)
class Eligibility:
    eligible: bool
    reasons: tuple[str, ...]


@dataclass(slots=True)
class User(Versioned):
    """An account. `password_hash` is an argon2id hash ("" when the account cannot sign in yet)."""

    id: uuid.UUID
    profile: Profile
    card_number: str
    password_hash: str
    created_at: datetime
    updated_at: datetime
    version: int = 1
    events: list[object] = field(default_factory=list)

    @property
    def name(self) -> str:
        return user_name(self.id)

    @classmethod
    def register(cls, profile: Profile, *, password_hash: str, now: datetime, created_by: Actor | None = None) -> User:
        """A new account; staff may create readers, only admins create staff."""
        if created_by is not None and profile.role in STAFF and created_by.role != UserRole.ADMIN:
            raise PermissionDenied("only admins create librarian and admin accounts", reason="ROLE_NOT_GRANTABLE")
        user = cls(
            id=uuid.uuid4(),
            profile=profile.validated(),
            card_number=new_card_number(),
            password_hash=password_hash,
            created_at=now,
            updated_at=now,
        )
        user.events.append(UserRegistered(new_event_id(), now, user, created_by.name if created_by else ""))
        return user

    def update(self, changes: Profile, mask: frozenset[str], *, actor: Actor, now: datetime) -> None:
        """Apply the masked fields of `changes`, if `actor` may write each of them on this account."""
        unknown = mask - ADMIN_FIELDS - OUTPUT_ONLY_FIELDS
        if unknown:
            raise InvalidArgument.field("update_mask", f"unknown field(s): {', '.join(sorted(unknown))}")
        if mask & OUTPUT_ONLY_FIELDS:
            raise InvalidArgument.field("update_mask", f"output-only: {', '.join(sorted(mask & OUTPUT_ONLY_FIELDS))}")
        self._check_may_write(mask, actor)
        fields = _profile_fields(mask)
        updated = replace(self.profile, **{name: getattr(changes, name) for name in fields}).validated()
        previous_status = self.profile.status
        self.profile = updated
        self._touch(now)
        self.events.append(UserUpdated(new_event_id(), now, self, tuple(sorted(mask)), actor.name))
        if updated.status != previous_status:
            self.events.append(
                UserStatusChanged(
                    new_event_id(), now, self.name, previous_status, updated.status, updated.status_reason, actor.name
                )
            )

    def deactivate(self, *, actor: Actor, now: datetime) -> None:
        """Close the account; the record stays for loan history and the audit trail."""
        self._check_may_write(frozenset({"status"}), actor)
        if self.profile.status == UserStatus.DEACTIVATED:
            return
        previous = self.profile.status
        self.profile = replace(self.profile, status=UserStatus.DEACTIVATED)
        self._touch(now)
        self.events.append(
            UserStatusChanged(new_event_id(), now, self.name, previous, UserStatus.DEACTIVATED, "", actor.name)
        )

    def eligibility(self, now: datetime) -> Eligibility:
        """May this patron borrow or place holds right now (status and membership expiry)."""
        reasons: list[str] = []
        status = self.effective_status(now)
        if status == UserStatus.BLOCKED:
            reasons.append(f"blocked: {self.profile.status_reason}" if self.profile.status_reason else "blocked")
        elif status == UserStatus.EXPIRED:
            reasons.append("membership expired")
        elif status == UserStatus.DEACTIVATED:
            reasons.append("account closed")
        return Eligibility(eligible=not reasons, reasons=tuple(reasons))

    def effective_status(self, now: datetime) -> UserStatus:
        """EXPIRED as soon as `expire_at` passes, even before anyone stores the new status."""
        expired = self.profile.expire_at is not None and self.profile.expire_at <= now
        if self.profile.status == UserStatus.ACTIVE and expired:
            return UserStatus.EXPIRED
        return self.profile.status

    def ensure_may_sign_in(self, now: datetime) -> None:
        status = self.effective_status(now)
        if status != UserStatus.ACTIVE:
            raise PermissionDenied(f"the account is {status}", reason=f"ACCOUNT_{status.upper()}")

    def _check_may_write(self, mask: frozenset[str], actor: Actor) -> None:
        forbidden = mask - WRITABLE_BY[actor.role]
        if forbidden:
            raise PermissionDenied(
                f"a {actor.role} may not change {', '.join(sorted(forbidden))}", reason="FIELD_NOT_WRITABLE"
            )
        own = actor.name == self.name
        if not own and actor.role == UserRole.LIBRARIAN and self.profile.role in STAFF:
            raise PermissionDenied("only admins change staff accounts", reason="STAFF_ACCOUNT")
        if not own and not actor.is_staff:
            raise PermissionDenied("readers change only their own account", reason="NOT_OWN_ACCOUNT")

    def _touch(self, now: datetime) -> None:
        self.updated_at = now
        self.version += 1


def _profile_fields(mask: frozenset[str]) -> list[str]:
    renamed = {"expire_time": "expire_at"}
    fields: list[str] = []
    for name in mask:
        if name == "notification_preferences":
            fields += ["email_opt_in", "sms_opt_in"]
        else:
            fields.append(renamed.get(name, name))
    return fields


def new_event_id() -> uuid.UUID:
    return uuid.uuid4()


def user_name(user_id: uuid.UUID) -> str:
    return f"users/{user_id}"


def parse_user_name(name: str, *, field: str = "name") -> uuid.UUID:
    """users/{uuid} -> uuid; InvalidArgument when malformed ("users/me" is resolved before this)."""
    prefix, _, raw = name.partition("/")
    if prefix != "users" or not raw:
        raise InvalidArgument.field(field, "must look like users/{user}")
    try:
        return uuid.UUID(raw)
    except ValueError:
        raise InvalidArgument.field(field, "must look like users/{user} with a UUID") from None


class UserNotFound(NotFound):
    def __init__(self, name: str) -> None:
        super().__init__(name, f"{name} not found")


@dataclass(frozen=True, slots=True)
class UserRegistered:
    event_id: uuid.UUID
    occurred_at: datetime
    user: User
    created_by: str


@dataclass(frozen=True, slots=True)
class UserUpdated:
    event_id: uuid.UUID
    occurred_at: datetime
    user: User
    update_mask: tuple[str, ...]
    updated_by: str


@dataclass(frozen=True, slots=True)
class UserStatusChanged:
    event_id: uuid.UUID
    occurred_at: datetime
    name: str
    previous_status: UserStatus
    status: UserStatus
    reason: str
    changed_by: str
