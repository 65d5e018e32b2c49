"""Sign-in sessions, refresh-token rotation and sign-in throttling. Pure rules: no I/O.

A session is one sign-in (one refresh-token family). Each refresh rotates the token; presenting a token
that was already rotated means it leaked (or the client raced itself): the whole family is revoked.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from services.support.runtime.errors import Throttled, Unauthenticated
from services.users.domain import new_event_id


def new_refresh_token() -> str:
    """256 random bits, URL-safe; only its hash is stored."""
    return secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    """SHA-256 is enough here: the token is random, not a password, so there is nothing to brute-force."""
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(slots=True)
class RefreshToken:
    digest: str
    session_id: uuid.UUID
    issued_at: datetime
    expires_at: datetime
    used_at: datetime | None = None


@dataclass(slots=True)
class Session:
    id: uuid.UUID
    user_id: uuid.UUID
    created_at: datetime
    access_expires_at: datetime
    """When the newest access token of this session expires (how long a revocation must be remembered)."""
    revoked_at: datetime | None = None
    revoke_reason: str = ""
    events: list[object] = field(default_factory=list)
    issued: list[RefreshToken] = field(default_factory=list)
    """Tokens issued in this unit of work, for the repository to store."""

    @classmethod
    def start(cls, user_id: uuid.UUID, *, now: datetime) -> Session:
        return cls(id=uuid.uuid4(), user_id=user_id, created_at=now, access_expires_at=now)

    @property
    def user_name(self) -> str:
        return f"users/{self.user_id}"

    def issue(self, *, now: datetime, refresh_ttl: timedelta, access_expires_at: datetime) -> tuple[str, RefreshToken]:
        """A new refresh token of this family; returns the token (for the client) and its stored form."""
        token = new_refresh_token()
        record = RefreshToken(token_digest(token), self.id, now, now + refresh_ttl)
        self.issued.append(record)
        self.access_expires_at = max(self.access_expires_at, access_expires_at)
        return token, record

    def rotate(self, presented: RefreshToken, *, now: datetime) -> None:
        """Spend `presented`. Raises Unauthenticated when the session is over, and RefreshTokenReused after
        revoking the session when the token was spent before (the caller commits that revocation)."""
        if self.revoked_at is not None:
            raise Unauthenticated("the refresh token was revoked", reason="REFRESH_TOKEN_REVOKED")
        if presented.used_at is not None:
            self.revoke("refresh_token_reuse", now=now)
            raise RefreshTokenReused()
        if presented.expires_at <= now:
            raise Unauthenticated("the refresh token has expired", reason="REFRESH_TOKEN_EXPIRED")
        presented.used_at = now

    def revoke(self, reason: str, *, now: datetime) -> None:
        """End the session: its refresh tokens stop working and services refuse its access tokens."""
        if self.revoked_at is not None:
            return
        self.revoked_at = now
        self.revoke_reason = reason
        self.events.append(SessionRevoked(new_event_id(), now, self.id, self.user_name, reason, self.access_expires_at))


class RefreshTokenReused(Unauthenticated):
    def __init__(self) -> None:
        super().__init__(
            "this refresh token was already used: the session is revoked, sign in again",
            reason="REFRESH_TOKEN_REUSED",
        )


@dataclass(frozen=True, slots=True)
class ThrottlePolicy:
    max_failures: int
    window: timedelta
    lockout: timedelta


@dataclass(slots=True)
class LoginThrottle:
    """Failed sign-ins for one email (known or not, so a lock reveals nothing about who has an account)."""

    email: str
    failures: int = 0
    window_started_at: datetime | None = None
    locked_until: datetime | None = None
    events: list[object] = field(default_factory=list)

    def ensure_open(self, now: datetime) -> None:
        if self.locked_until is not None and self.locked_until > now:
            seconds = int((self.locked_until - now).total_seconds()) + 1
            raise Throttled(
                f"too many failed sign-ins; try again in {seconds} s",
                reason="TOO_MANY_ATTEMPTS",
                metadata={"retry_after_seconds": str(seconds)},
            )

    def begin_attempt(self, *, now: datetime, policy: ThrottlePolicy) -> None:
        """Count an attempt as failed until it proves otherwise: concurrent guesses cannot outrun the limit
        while the (slow) password check runs outside any lock."""
        self.ensure_open(now)
        if self.window_started_at is None or now - self.window_started_at > policy.window:
            self.failures, self.window_started_at = 0, now
        self.failures += 1
        if self.failures >= policy.max_failures:
            self.locked_until = now + policy.lockout
            self.failures, self.window_started_at = 0, None

    def record_failure(self, reason: str, *, now: datetime) -> None:
        """The attempt failed (it was already counted): leave an audit event."""
        self.events.append(UserLoginFailed(new_event_id(), now, self.email, reason))

    def record_success(self) -> None:
        self.failures, self.window_started_at, self.locked_until = 0, None, None


@dataclass(frozen=True, slots=True)
class UserLoggedIn:
    event_id: uuid.UUID
    occurred_at: datetime
    name: str


@dataclass(frozen=True, slots=True)
class UserLoginFailed:
    event_id: uuid.UUID
    occurred_at: datetime
    email: str
    reason: str


@dataclass(frozen=True, slots=True)
class SessionRevoked:
    event_id: uuid.UUID
    occurred_at: datetime
    session_id: uuid.UUID
    name: str
    reason: str
    expires_at: datetime
