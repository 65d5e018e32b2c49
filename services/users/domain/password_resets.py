"""Password reset by email: single-use tokens for whoever forgot their password. Pure rules: no I/O.

A token is 256 random bits; only its SHA-256 is stored (as for refresh tokens: a random token has nothing to
brute-force), so a copy of the database opens no account. An account has at most one reset at a time: a new
request replaces the one before (its link stops working), and using it deletes it. The token itself travels
only in PasswordResetRequested, for the notifications service to mail (its proto field is debug_redact: the
audit trail leaves it out).
"""

from __future__ import annotations

import hmac
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from services.support.runtime.errors import FailedPrecondition
from services.support.runtime.events import DomainEvent
from services.support.runtime.identity import ANONYMOUS
from services.users.domain.accounts import User
from services.users.domain.profile import UserStatus
from services.users.domain.sessions import new_refresh_token, token_digest

RESET_TOKEN_INVALID = "RESET_TOKEN_INVALID"


@dataclass(frozen=True, slots=True)
class ResetPolicy:
    """How long a link works, and how soon another request for the same account sends another mail."""

    lifetime: timedelta = timedelta(minutes=30)
    resend_after: timedelta = timedelta(minutes=1)


@dataclass(slots=True)
class PasswordReset:
    """The live reset of one account: the digest of its token, and when it stops working."""

    user_id: uuid.UUID
    digest: str
    created_at: datetime
    expires_at: datetime
    events: list[DomainEvent] = field(default_factory=list)

    @classmethod
    def start(
        cls, user: User, *, now: datetime, policy: ResetPolicy, requested_by: str = ANONYMOUS, client: str = ""
    ) -> PasswordReset:
        """A new reset of `user`'s password, asked for by `requested_by` from `client`; its token goes only
        into the event (for the email)."""
        token = new_refresh_token()
        reset = cls(user.id, token_digest(token), now, now + policy.lifetime)
        reset.events.append(
            PasswordResetRequested(
                occurred_at=now,
                name=user.name,
                token=token,
                expires_at=reset.expires_at,
                requested_by=requested_by,
                client_address=client,
            )
        )
        return reset

    def matches(self, token: str, *, now: datetime) -> bool:
        """Whether `token` is this reset's and still works (the digests compared in constant time)."""
        return hmac.compare_digest(self.digest, token_digest(token)) and now < self.expires_at


def may_reset(user: User | None) -> bool:
    """Accounts that get a reset link: any but a closed one. A blocked or expired account keeps its owner's
    password (the block or lapse is about borrowing, and sign-in applies the status rules itself): refusing
    them a reset would leave them locked out of their own account once the block is lifted or the membership
    renewed. A closed account is sent nothing."""
    return user is not None and user.profile.status != UserStatus.DEACTIVATED


def may_send_again(previous: PasswordReset | None, *, now: datetime, policy: ResetPolicy) -> bool:
    """Another mail only once the previous one is `resend_after` old: nobody fills a mailbox with resets."""
    return previous is None or now >= previous.created_at + policy.resend_after


def ensure_valid(reset: PasswordReset | None, token: str, *, now: datetime) -> PasswordReset:
    """The reset `token` opens; one answer for an unknown, used, replaced or expired one (which, is not said)."""
    if reset is None or not reset.matches(token, now=now):
        raise ResetTokenInvalid()
    return reset


class ResetTokenInvalid(FailedPrecondition):
    def __init__(self) -> None:
        super().__init__(
            "this password reset link is not valid (used, expired or replaced by a newer one): ask for a new one",
            reason=RESET_TOKEN_INVALID,
        )


@dataclass(frozen=True, kw_only=True, slots=True)
class PasswordResetRequested(DomainEvent):
    name: str
    token: str = field(repr=False)
    """The token itself: for the email only, never logged (not in the repr)."""
    expires_at: datetime
    requested_by: str = ANONYMOUS
    """Who asked (the audit trail's actor): a signed-in user's name, else "anonymous", never the account."""
    client_address: str = ""
