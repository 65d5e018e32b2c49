"""Sign-in throttling without lockouts: growing delays per (account, client) and per client. Pure.

Two throttles count every failed sign-in (an unknown email as much as a wrong password, so neither tells
who has an account):

- the account from one client address: a few failures are free, then each further one makes that client
  wait longer (the delay doubles) before it may try that account again. The owner signing in from
  anywhere else is not held back: nobody can lock an account.
- the client address, whatever the accounts: many failures are free (a library's terminals, a school
  behind one address), then the same growing delays, so a sprayer trying a password on many accounts
  is slowed down.

Failures are forgotten one at a time as time passes (a leaky bucket), so an honest client is never held
for long. An attempt counts as failed before its (slow) password check and is given back if it
succeeds, so a burst of concurrent guesses cannot outrun the count.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from services.support.runtime.errors import Throttled
from services.support.runtime.events import DomainEvent
from services.support.runtime.identity import ANONYMOUS
from services.users.domain.validation import email_problem

NOT_AN_EMAIL = "(not an email address)"
"""What a failed sign-in's audit event says was tried, when what was typed is no email address."""


@dataclass(frozen=True, slots=True)
class ThrottlePolicy:
    free_failures: int
    """Failures that cost no wait."""
    forget_one_every: timedelta
    """One failure is forgotten each time this passes."""
    first_delay: timedelta
    """The wait after the first failure beyond the free ones; each further failure doubles it."""
    max_delay: timedelta

    def delay(self, failures: int) -> timedelta:
        beyond = failures - self.free_failures
        if beyond <= 0:
            return timedelta(0)
        doubled: timedelta = self.first_delay * (2 ** min(beyond - 1, 30))
        return min(doubled, self.max_delay)


@dataclass(frozen=True, slots=True)
class Caller:
    """Who made an attempt: "anonymous" for a sign-in (whoever typed the password is not known; the account
    is what was tried, not who tried), or a signed-in user's name; and the address the edge saw."""

    name: str = ANONYMOUS
    address: str = ""


ANYONE = Caller()


@dataclass(frozen=True, slots=True)
class SignInThrottling:
    """The two policies a sign-in meets."""

    account_from_client: ThrottlePolicy
    client: ThrottlePolicy


def account_key(email: str, client: str) -> str:
    """The throttle of one account (its normalized email) tried from one client address."""
    return f"account {email} from {client}"


def client_key(client: str) -> str:
    """The throttle of one client address, whatever accounts it tries."""
    return f"client {client}"


@dataclass(slots=True)
class SignInThrottle:
    """The failed sign-ins counted under one key (account_key or client_key)."""

    key: str
    failures: int = 0
    last_attempt_at: datetime | None = None
    refused: int = 0
    """Attempts refused while this key waited, since the last one counted."""
    events: list[DomainEvent] = field(default_factory=list)

    def failures_now(self, now: datetime, policy: ThrottlePolicy) -> int:
        """The failures still remembered at `now` (one forgotten every `forget_one_every`)."""
        if self.last_attempt_at is None:
            return 0
        elapsed = max(now - self.last_attempt_at, timedelta(0))  # none for an attempt that began before the last
        return max(0, self.failures - int(elapsed / policy.forget_one_every))

    def ensure_open(self, now: datetime, policy: ThrottlePolicy) -> None:
        """Throttled (RESOURCE_EXHAUSTED, saying how long to wait) while this key must wait.

        Within the free failures nothing waits: concurrent sign-ins take the key's lock in any order, so the
        last attempt counted may have begun after this one (`now` is when this one began)."""
        delay = policy.delay(self.failures)
        if self.last_attempt_at is None or not delay:
            return
        open_at = self.last_attempt_at + delay
        if open_at > now:
            seconds = max(1, math.ceil((open_at - now).total_seconds()))
            raise Throttled(
                f"too many failed sign-ins; try again in {seconds} s",
                reason="TOO_MANY_ATTEMPTS",
                metadata={"retry_after_seconds": str(seconds)},
                retry_after=seconds,  # RetryInfo, and Retry-After at the edge, as every other 429 says it
            )

    def begin_attempt(self, *, now: datetime, policy: ThrottlePolicy) -> int:
        """Count the attempt as failed until it proves otherwise; returns the attempts refused since the one
        counted before it (their count goes into this one's failure event)."""
        self.ensure_open(now, policy)
        self.failures = self.failures_now(now, policy) + 1
        self.last_attempt_at = max(now, self.last_attempt_at or now)  # the latest attempt's, whatever the order
        refused, self.refused = self.refused, 0
        return refused

    def record_refusal(self, email: str, *, now: datetime, caller: Caller = ANYONE, account: str = "") -> None:
        """An attempt was refused while this key waits. The first refusal of a wait is an audit event (the
        attack and the reader's "I cannot sign in" show in the trail); the rest are only counted, so a flood
        of refused attempts cannot flood the trail (the next counted attempt's event gives their number)."""
        self.refused += 1
        if self.refused == 1:
            self.record_failure(email, "rate_limited", now=now, caller=caller, account=account)

    def record_failure(
        self, email: str, reason: str, *, now: datetime, caller: Caller = ANYONE, account: str = "", refused: int = 0
    ) -> None:
        """The attempt failed (it was already counted): leave an audit event, naming the `account` ("users/{id}")
        the email belongs to, if any, and the `caller` who tried. What was typed as the email (as normalized)
        is kept only when it is an email address: a password typed into the email box must not end up in an
        event."""
        typed = email if email_problem(email) is None else NOT_AN_EMAIL
        self.events.append(
            UserLoginFailed(
                occurred_at=now,
                email=typed,
                reason=reason,
                name=account,
                attempted_by=caller.name,
                client_address=caller.address,
                refused_attempts=refused,
            )
        )

    def give_back(self) -> None:
        """The attempt succeeded: it no longer counts as a failure."""
        self.failures = max(0, self.failures - 1)

    def forgive(self) -> None:
        """The account's owner signed in from this client: the earlier failures here are forgotten."""
        self.failures = 0


@dataclass(frozen=True, kw_only=True, slots=True)
class UserLoginFailed(DomainEvent):
    email: str
    reason: str
    name: str = ""
    """"users/{user}" whose email was tried; "" when no account has it."""
    attempted_by: str = ANONYMOUS
    client_address: str = ""
    refused_attempts: int = 0
