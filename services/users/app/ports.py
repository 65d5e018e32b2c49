"""What the users use cases need from the outside world, in domain terms: no SQL, gRPC or NATS type here.

The data layer implements these (data/), unit tests use in-memory ones (tests/unit/users/fakes.py).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Protocol, Self

from services.support.runtime.identity import Role
from services.users.domain.accounts import Standing, User
from services.users.domain.password_resets import PasswordReset
from services.users.domain.profile import UserStatus
from services.users.domain.sessions import RefreshToken, Session
from services.users.domain.signing_keys import Keyring, SigningKey
from services.users.domain.throttling import SignInThrottle


@dataclass(frozen=True, slots=True)
class UserFilter:
    """Which accounts a list shows: every condition given must hold; `text` is a substring of email,
    display name, phone or card number, in any case."""

    role: Role | None = None
    status: UserStatus | None = None
    """The effective status (User.effective_status): EXPIRED includes ACTIVE accounts past their expiry."""
    patron_category: str = ""
    text: str = ""
    exact: bool = False
    """`text` is a whole card number (as written) or a whole email (any case), not a substring: the desk's
    scan, looked up by the unique indexes."""


@dataclass(frozen=True, slots=True)
class UserCursor:
    """Where a newest-first list resumes: strictly after this (created_at, id)."""

    created_at: datetime
    user_id: uuid.UUID


class UserRepository(Protocol):
    async def add(self, user: User) -> None:
        """Raises AlreadyExists (EMAIL_TAKEN) for a taken email, CardNumberTaken for a taken card number."""

    async def get(self, user_id: uuid.UUID) -> User:
        """Raises UserNotFound."""

    async def find_by_email(self, email: str) -> User | None:
        """The account with this (normalized) email, if any."""

    async def save(self, user: User) -> None:
        """Writes back a changed user unless someone else changed it since it was read (Conflict,
        CONCURRENT_UPDATE); raises AlreadyExists when the new email is taken."""

    async def replace_password_hash(self, user_id: uuid.UUID, *, previous: str, new: str) -> bool:
        """Stores `new` if the stored hash is still `previous` (False when it is not: a password changed
        meanwhile wins). Not a change of the resource clients see (its etag stays)."""

    async def list_newest_first(
        self, where: UserFilter, *, now: datetime, after: UserCursor | None, limit: int
    ) -> list[User]:
        """Up to `limit` accounts matching at `now` (the status filter is the effective status), newest
        first, after the cursor."""

    async def count(self, where: UserFilter, *, now: datetime) -> int:
        """How many accounts match at `now`."""

    async def lock_active_admins(self, *, now: datetime) -> list[uuid.UUID]:
        """The ids of the admins who can sign in at `now` (ACTIVE as stored and not past `expire_at`), their
        rows locked until commit: two changes that would each leave one admin cannot both pass the
        last-admin check."""


class SessionRepository(Protocol):
    async def add(self, session: Session) -> None: ...

    async def get(self, session_id: uuid.UUID) -> Session:
        """The session, locked until commit."""

    async def find_refresh_token(self, digest: str) -> RefreshToken | None:
        """The stored token with this digest, locked until commit (two refreshes race: one wins)."""

    async def active_of(self, user_id: uuid.UUID) -> list[Session]:
        """The user's sessions that are not revoked."""

    async def save(self, session: Session, *, spent: RefreshToken | None = None) -> None:
        """Stores the session's state, the token it spent, and the tokens it issued."""


class ThrottleRepository(Protocol):
    async def get(self, key: str) -> SignInThrottle:
        """The key's throttle (a fresh one if none), locked until commit so concurrent failures all count."""

    async def save(self, throttle: SignInThrottle) -> None: ...


class PasswordResetRepository(Protocol):
    async def of_user(self, user_id: uuid.UUID) -> PasswordReset | None:
        """The account's live reset, if any, locked until commit."""

    async def find(self, digest: str) -> PasswordReset | None:
        """The reset whose token has this digest, locked until commit (two uses at once: one wins)."""

    async def replace(self, reset: PasswordReset) -> None:
        """Store `reset` as its account's only one: the one before stops working."""

    async def remove(self, user_id: uuid.UUID) -> None:
        """The account has no reset any more (its token was used)."""


class RequestLog(Protocol):
    """Idempotent mutations: what a request_id produced the first time, remembered in the same transaction."""

    async def recall(self, request_id: uuid.UUID | None, operation: str) -> str | None: ...

    async def remember(self, request_id: uuid.UUID | None, operation: str, resource: str) -> None: ...


class UsersUnitOfWork(Protocol):
    """One transaction over the users database; `commit()` also stores the events the aggregates recorded."""

    @property
    def users(self) -> UserRepository: ...
    @property
    def sessions(self) -> SessionRepository: ...
    @property
    def throttles(self) -> ThrottleRepository: ...
    @property
    def resets(self) -> PasswordResetRepository: ...
    @property
    def requests(self) -> RequestLog: ...

    def reading(self) -> Self:
        """The next `async with` block only reads (no transaction to begin and roll back), and commits nothing."""

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...

    async def commit(self) -> None: ...

    async def announced(self) -> bool:
        """Whether every event committed so far has reached the message bus, and so the services that keep
        a projection of accounts (loans lends by one); False when that takes too long (the bus is away)."""


class Passwords(Protocol):
    """Password hashing: slow on purpose, so it never runs on the event loop and never inside a transaction."""

    async def hash(self, password: str) -> str: ...

    async def verify(self, stored_hash: str, password: str) -> bool:
        """True when `password` matches; an empty `stored_hash` costs as much as a real check, and fails."""

    def needs_rehash(self, stored_hash: str) -> bool:
        """True when the hash was made with other parameters than the current ones."""


class SigningKeys(Protocol):
    """Where the token signing keys live (outside the unit of work: read often, written by operators)."""

    async def keyring(self) -> Keyring: ...

    async def add(self, key: SigningKey) -> None: ...

    async def check_passphrase(self) -> None:
        """FailedPrecondition unless the passphrase this process holds opens every stored key."""

    async def add_first(self, key: SigningKey) -> bool:
        """Stores `key` only when there is no key at all (two processes starting together: one wins)."""


class Circulation(Protocol):
    """The loans service, as far as closing an account needs it."""

    async def standing(self, patron: str) -> Standing:
        """How many books `patron` ("users/{id}") has out and what they owe; DependencyUnavailable when
        the loans service cannot tell (an account is then not closed blindly)."""
