"""Patrons and staff: what an account is, who may change which of its fields, and whether it may borrow. Pure."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from services.support.runtime.errors import FailedPrecondition, InvalidArgument, NotFound, PermissionDenied
from services.support.runtime.events import DomainEvent
from services.support.runtime.identity import STAFF, Role
from services.support.runtime.names import NamePattern
from services.support.runtime.versioning import Versioned
from services.users.domain.profile import Profile, UserStatus
from services.users.domain.update_mask import (
    OUTPUT_ONLY_FIELDS,
    PREFERENCES,
    WRITABLE_BY,
    known_path,
    named_kinds,
    profile_fields,
    with_kind_choices,
)
from services.users.domain.validation import kind_choices_violation, new_card_number

USER = NamePattern("users/{user}")

RESTRICTED_STATUSES = frozenset({UserStatus.BLOCKED, UserStatus.EXPIRED})
"""Statuses that sign in read-only: the patron sees why, what is out and what is owed; nothing more."""


@dataclass(frozen=True, slots=True)
class Actor:
    """Who asks for a change: "users/{id}" and their role."""

    name: str
    role: Role

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF


def check_may_ask_for_password_change(actor: Actor, user_id: uuid.UUID) -> None:
    """Before the account is read: a reader naming another account is refused whether it exists or not, so the
    answer does not tell which ids do (AIP-211; GetUser refuses so at the interceptor)."""
    if not actor.is_staff and actor.name != USER.format(user_id):
        raise PermissionDenied("only the owner changes a password", reason="NOT_OWN_ACCOUNT")


@dataclass(frozen=True, slots=True)
class Eligibility:
    """May the patron borrow now; `status` is the effective one (EXPIRED once the membership ran out)."""

    eligible: bool
    reasons: tuple[str, ...]
    status: UserStatus


@dataclass(frozen=True, slots=True)
class Standing:
    """What a patron still has to settle with circulation before their account may close."""

    loans_out: int
    fines_outstanding: int
    amount_owed: str
    """The sum still owed over the outstanding fines, as the loans service writes it ("3.00")."""
    charges_held_for: timedelta = timedelta(0)
    """How long from the question the loans service takes no charge for the patron: a close committed within
    it is never passed by one (0: not said)."""

    def ensure_settled(self, name: str) -> None:
        """FailedPrecondition (ACCOUNT_HAS_LOANS, else ACCOUNT_HAS_FINES) while anything is out or owed."""
        details = {
            "loans_out": str(self.loans_out),
            "fines_outstanding": str(self.fines_outstanding),
            "amount_owed": self.amount_owed,
        }
        if self.loans_out:
            owed = f" and owes {self.amount_owed} in fines" if self.fines_outstanding else ""
            raise FailedPrecondition(
                f"the account cannot be closed: the reader still has {self.loans_out} book(s) out{owed}; "
                "return or settle first",
                reason="ACCOUNT_HAS_LOANS",
                metadata={"name": name, **details},
            )
        if self.fines_outstanding:
            raise FailedPrecondition(
                f"the account cannot be closed: the reader still owes {self.amount_owed} in "
                f"{self.fines_outstanding} unpaid fine(s); settle first (pay or waive them)",
                reason="ACCOUNT_HAS_FINES",
                metadata={"name": name, **details},
            )


SETTLED = Standing(loans_out=0, fines_outstanding=0, amount_owed="0")


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
    events: list[DomainEvent] = field(default_factory=list)
    name: str = field(init=False, repr=False, compare=False)
    """users/{id}: derived from the id once (Versioned names the resource in its errors)."""

    def __post_init__(self) -> None:
        self.name = USER.format(self.id)

    @classmethod
    def register(cls, profile: Profile, *, password_hash: str, now: datetime, created_by: Actor | None = None) -> User:
        """A new account; staff may create readers, only admins create staff."""
        if created_by is not None and profile.role in STAFF and created_by.role != Role.ADMIN:
            raise PermissionDenied("only admins create librarian and admin accounts", reason="ROLE_NOT_GRANTABLE")
        user = cls(
            id=uuid.uuid4(),
            profile=profile.validated(),
            card_number=new_card_number(),
            password_hash=password_hash,
            created_at=now,
            updated_at=now,
        )
        user.events.append(UserRegistered(occurred_at=now, user=user, created_by=created_by.name if created_by else ""))
        return user

    def update(self, changes: Profile, mask: frozenset[str], *, actor: Actor, now: datetime) -> None:
        """Apply the masked fields of `changes`, if `actor` may write each of them on this account. A mask
        entry names a field, one part of the notification preferences ("notification_preferences.kinds"), or one
        kind's choice ("notification_preferences.kinds.hold_ready": set as in `changes`, removed when absent)."""
        unknown = {path for path in mask if not known_path(path)}
        if unknown:
            raise InvalidArgument.field("update_mask", f"unknown field(s): {', '.join(sorted(unknown))}")
        if mask & OUTPUT_ONLY_FIELDS:
            raise InvalidArgument.field("update_mask", f"output-only: {', '.join(sorted(mask & OUTPUT_ONLY_FIELDS))}")
        kind = kind_choices_violation(sorted(named_kinds(mask)), field=f"user.{PREFERENCES}.kinds")
        if kind is not None:
            raise InvalidArgument([kind])
        self._check_may_write(frozenset(path.split(".")[0] for path in mask), actor)
        fields = profile_fields(mask)
        updated = replace(self.profile, **{name: getattr(changes, name) for name in fields})
        updated = with_kind_choices(updated, changes, kinds=named_kinds(mask)).validated(given=frozenset(fields))
        previous, previous_status = self.profile, self.profile.status
        # The reason of a status change is the one given with it (a block's reason is no unblock's reason).
        reason = updated.status_reason if "status_reason" in mask or updated.status == UserStatus.BLOCKED else ""
        if previous_status == UserStatus.BLOCKED and updated.status != UserStatus.BLOCKED:
            updated = replace(updated, status_reason="")  # why it *is* blocked: gone with the block
        self.profile = updated
        self._touch(now)
        changed = tuple(sorted(mask))
        self.events.append(
            UserUpdated(occurred_at=now, user=self, update_mask=changed, updated_by=actor.name, previous=previous)
        )
        if updated.status != previous_status:
            self._record_status_change(previous_status, reason=reason, actor=actor, now=now)

    def check_may_set_password(self, actor: Actor) -> None:
        """The owner changes their password. Staff set a reader's (one who forgot it, at the desk: as in Koha
        and Evergreen), and give an account made without any its first one when they may change it. A staff
        account's password is otherwise its owner's alone: a librarian cannot take over an admin's account,
        nor an admin a colleague's unseen."""
        if actor.name == self.name:
            return
        if self.password_hash and not (actor.is_staff and self.profile.role == Role.READER):
            raise PermissionDenied("only the owner changes a password", reason="NOT_OWN_ACCOUNT")
        self._check_may_write(frozenset(), actor)

    def record_password_change(self, *, actor: Actor, now: datetime) -> None:
        """A new password was stored (apart from the profile: the etag stays); the owner is told."""
        self.check_may_set_password(actor)
        if actor.name == self.name:
            self.events.append(PasswordChanged(occurred_at=now, name=self.name, method="change"))
        else:
            self.events.append(PasswordChanged(occurred_at=now, name=self.name, changed_by=actor.name, method="staff"))

    def record_password_reset(self, *, now: datetime) -> None:
        """A new password was stored with a reset link (whoever holds it proved they read the account's email)."""
        self.events.append(PasswordChanged(occurred_at=now, name=self.name, method="reset"))

    def check_may_deactivate(self, actor: Actor) -> None:
        """PermissionDenied unless `actor` may close this account (before anyone is asked about its loans)."""
        self._check_may_write(frozenset({"status"}), actor)

    def deactivate(self, *, actor: Actor, now: datetime, standing: Standing) -> None:
        """Close the account; the record stays for loan history and the audit trail. Refused while the patron
        has books out or owes fines (as Koha refuses): closed, they could no longer sign in to see them, and
        the books and the debt would be left on an account nobody follows up."""
        self.check_may_deactivate(actor)
        if self.profile.status == UserStatus.DEACTIVATED:
            return
        standing.ensure_settled(self.name)
        before = self.profile
        self.profile = replace(self.profile, status=UserStatus.DEACTIVATED, status_reason="")
        self._touch(now)
        # As for any other change: the account with its version (projections keep the newest they saw).
        self.events.append(
            UserUpdated(occurred_at=now, user=self, update_mask=("status",), updated_by=actor.name, previous=before)
        )
        self._record_status_change(before.status, reason="", actor=actor, now=now)

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
        return Eligibility(eligible=not reasons, reasons=tuple(reasons), status=status)

    def effective_status(self, now: datetime) -> UserStatus:
        """EXPIRED as soon as `expire_at` passes, even before anyone stores the new status."""
        return self.profile.effective_status(now)

    def ensure_may_sign_in(self, now: datetime) -> None:
        """Only a closed account is refused. A BLOCKED or EXPIRED one signs in restricted (`restricted`): to
        read why, what it has out and what it owes (Koha lets a debarred patron into the OPAC likewise)."""
        if self.effective_status(now) == UserStatus.DEACTIVATED:
            raise PermissionDenied("the account is closed", reason="ACCOUNT_DEACTIVATED")

    def restricted(self, now: datetime) -> bool:
        """Signed in, but only to read its own records and sign out: BLOCKED or EXPIRED (access_tokens.py)."""
        return self.effective_status(now) in RESTRICTED_STATUSES

    def _check_may_write(self, mask: frozenset[str], actor: Actor) -> None:
        forbidden = mask - WRITABLE_BY[actor.role]
        if forbidden:
            raise PermissionDenied(
                f"a {actor.role} may not change {', '.join(sorted(forbidden))}", reason="FIELD_NOT_WRITABLE"
            )
        own = actor.name == self.name
        if not own and actor.role == Role.LIBRARIAN and self.profile.role in STAFF:
            raise PermissionDenied("only admins change staff accounts", reason="STAFF_ACCOUNT")
        if not own and not actor.is_staff:
            raise PermissionDenied("readers change only their own account", reason="NOT_OWN_ACCOUNT")

    def _record_status_change(self, previous: UserStatus, *, reason: str, actor: Actor, now: datetime) -> None:
        self.events.append(
            UserStatusChanged(
                occurred_at=now,
                name=self.name,
                previous_status=previous,
                status=self.profile.status,
                reason=reason,
                changed_by=actor.name,
            )
        )

    def _touch(self, now: datetime) -> None:
        self.updated_at = now
        self.version += 1


class UserNotFound(NotFound):
    def __init__(self, name: str) -> None:
        super().__init__(name, f"{name} not found")


class CardNumberTaken(Exception):
    """Two generated card numbers collided (the repository says so): the caller draws another."""


@dataclass(frozen=True, kw_only=True, slots=True)
class UserRegistered(DomainEvent):
    user: User
    created_by: str


@dataclass(frozen=True, kw_only=True, slots=True)
class UserUpdated(DomainEvent):
    user: User
    update_mask: tuple[str, ...]
    updated_by: str
    previous: Profile | None = None
    """The profile before the change: the audit trail says what the masked fields were."""


@dataclass(frozen=True, kw_only=True, slots=True)
class PasswordChanged(DomainEvent):
    name: str
    changed_by: str = ""
    """"users/{user}" of the staff member who set it; "" when the owner did."""
    method: str = "change"
    """"change" (the owner, with the current one), "reset" (a reset link) or "staff"."""


@dataclass(frozen=True, kw_only=True, slots=True)
class UserStatusChanged(DomainEvent):
    name: str
    previous_status: UserStatus
    status: UserStatus
    reason: str
    changed_by: str
