"""Sign-in sessions and refresh-token rotation. Pure rules: no I/O.

A session is one sign-in (one refresh-token family). Each refresh rotates the token; presenting a token
that was already rotated means it leaked (or the client raced itself): the whole family is revoked.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from services.support.runtime.errors import Unauthenticated
from services.support.runtime.events import DomainEvent
from services.users.domain.accounts import USER


@dataclass(frozen=True, slots=True)
class TokenLifetimes:
    """How long the tokens of a sign-in live (settings): access tokens short, refresh tokens long."""

    access: timedelta
    refresh: timedelta


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
    events: list[DomainEvent] = field(default_factory=list)
    issued: list[RefreshToken] = field(default_factory=list)
    """Tokens issued in this unit of work, for the repository to store."""

    @classmethod
    def start(cls, user_id: uuid.UUID, *, now: datetime) -> Session:
        """A new sign-in of the user (announced as UserLoggedIn)."""
        session = cls(id=uuid.uuid4(), user_id=user_id, created_at=now, access_expires_at=now)
        session.events.append(UserLoggedIn(occurred_at=now, name=session.user_name))
        return session

    @property
    def user_name(self) -> str:
        return USER.format(self.user_id)

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
        self.events.append(
            SessionRevoked(
                occurred_at=now,
                session_id=self.id,
                name=self.user_name,
                reason=reason,
                expires_at=self.access_expires_at,
            )
        )


class RefreshTokenReused(Unauthenticated):
    def __init__(self) -> None:
        super().__init__(
            "this refresh token was already used: the session is revoked, sign in again",
            reason="REFRESH_TOKEN_REUSED",
        )


@dataclass(frozen=True, kw_only=True, slots=True)
class UserLoggedIn(DomainEvent):
    name: str


@dataclass(frozen=True, kw_only=True, slots=True)
class SessionRevoked(DomainEvent):
    session_id: uuid.UUID
    name: str
    reason: str
    expires_at: datetime
