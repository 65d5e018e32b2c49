"""Sign-in throttling per email: failed attempts within a window lock the email for a while. Pure."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from services.support.runtime.errors import Throttled
from services.support.runtime.events import DomainEvent


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
    events: list[DomainEvent] = field(default_factory=list)

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
        self.events.append(UserLoginFailed(occurred_at=now, email=self.email, reason=reason))

    def record_success(self) -> None:
        self.failures, self.window_started_at, self.locked_until = 0, None, None


@dataclass(frozen=True, kw_only=True, slots=True)
class UserLoginFailed(DomainEvent):
    email: str
    reason: str
