"""In-memory ports for the users use cases (cosmicpython's FakeUnitOfWork): the same Protocols, dicts for tables.

Faithful where the use cases rely on the database: a unit of work reads committed state plus its own
writes, keeps its writes only when it commits (leaving without a commit drops them), hands out copies (a
change that is not saved is lost, as with SQL), checks versions, unique emails and card numbers, and on
commit drains the events of every aggregate it handed out, as the outbox would store them.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Self

from services.support.runtime.errors import DependencyUnavailable
from services.support.runtime.events import DomainEvent
from services.users.domain.accounts import SETTLED, Standing, User
from services.users.domain.password_resets import PasswordReset
from services.users.domain.sessions import RefreshToken, Session
from services.users.domain.signing_keys import Keyring, SigningKey
from services.users.domain.throttling import SignInThrottle

from .fake_user_repositories import (
    FakePasswordResetRepository,
    FakeRequestLog,
    FakeSessionRepository,
    FakeTable,
    FakeThrottleRepository,
    FakeUserRepository,
)


@dataclass
class Commit:
    """What one commit stored: the tables it wrote and the events it put in the outbox."""

    tables: set[str]
    events: list[DomainEvent]


@dataclass
class FakeUsersDatabase:
    """The committed state every unit of work of a test shares."""

    users: dict[uuid.UUID, User] = field(default_factory=dict)
    sessions: dict[uuid.UUID, Session] = field(default_factory=dict)
    refresh_tokens: dict[str, RefreshToken] = field(default_factory=dict)
    throttles: dict[str, SignInThrottle] = field(default_factory=dict)
    resets: dict[uuid.UUID, PasswordReset] = field(default_factory=dict)
    requests: dict[uuid.UUID, tuple[str, str]] = field(default_factory=dict)
    commits: list[Commit] = field(default_factory=list)
    bus_reachable: bool = True
    """Whether committed events reach the message bus in time (`announced()`)."""
    announced_after: list[int] = field(default_factory=list)
    """How many commits there were each time a use case waited for the bus (`announced()`)."""

    @property
    def published(self) -> list[DomainEvent]:
        """Every event committed so far, in order (what the outbox relay would publish)."""
        return [event for commit in self.commits for event in commit.events]

    def unit_of_work(self) -> FakeUsersUnitOfWork:
        return FakeUsersUnitOfWork(self)


class FakeUsersUnitOfWork:
    users: FakeUserRepository
    sessions: FakeSessionRepository
    throttles: FakeThrottleRepository
    resets: FakePasswordResetRepository
    requests: FakeRequestLog

    def __init__(self, database: FakeUsersDatabase) -> None:
        self._db = database
        self._reading = False

    async def announced(self) -> bool:
        self._db.announced_after.append(len(self._db.commits))
        return self._db.bus_reachable

    def reading(self) -> Self:
        self._reading = True  # this block must not commit
        return self

    async def __aenter__(self) -> Self:
        db = self._db
        self._tables: list[FakeTable[Any, Any]] = [
            users := FakeTable("users", db.users),
            sessions := FakeTable("sessions", db.sessions),
            tokens := FakeTable("refresh_tokens", db.refresh_tokens),
            throttles := FakeTable("sign_in_throttles", db.throttles),
            resets := FakeTable("password_resets", db.resets),
            requests := FakeTable("idempotent_requests", db.requests),
        ]
        self.users = FakeUserRepository(users)
        self.sessions = FakeSessionRepository(sessions, tokens)
        self.throttles = FakeThrottleRepository(throttles)
        self.resets = FakePasswordResetRepository(resets)
        self.requests = FakeRequestLog(requests)
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._tables = []  # whatever was not committed is gone
        self._reading = False

    async def commit(self) -> None:
        assert not self._reading, "a block entered with reading() commits nothing"
        events = []
        for repository in (self.users, self.sessions, self.throttles, self.resets):
            for aggregate in repository.seen:
                events.extend(aggregate.events)
                aggregate.events.clear()
        written = {table.name for table in self._tables if table.commit()}
        self._db.commits.append(Commit(written, events))


class FakePasswords:
    """ "Hashes" that name their parameters (`scheme`), so a test can tell an old hash from a current one."""

    def __init__(self, scheme: str = "v2") -> None:
        self.scheme = scheme
        self.hashed: list[str] = []
        """Every password hashed, in order (hashing is the expensive step the use cases avoid when they can)."""

    async def hash(self, password: str) -> str:
        self.hashed.append(password)
        return f"{self.scheme}${password}"

    async def verify(self, stored_hash: str, password: str) -> bool:
        return bool(stored_hash) and stored_hash.partition("$")[2] == password

    def needs_rehash(self, stored_hash: str) -> bool:
        return stored_hash.partition("$")[0] != self.scheme


class FakeSigningKeys:
    def __init__(self, *keys: SigningKey) -> None:
        self.keys = list(keys)

    async def keyring(self) -> Keyring:
        return Keyring(tuple(self.keys))

    async def add(self, key: SigningKey) -> None:
        self.keys.append(key)

    async def add_first(self, key: SigningKey) -> bool:
        if self.keys:
            return False
        self.keys.append(key)
        return True

    async def check_passphrase(self) -> None:
        return None


class FakeCirculation:
    """The loans service as closing an account asks it: what each patron has out and owes (nothing by
    default); unreachable when `reachable` is False."""

    def __init__(self) -> None:
        self.standings: dict[str, Standing] = {}
        self.reachable = True
        self.asked: list[str] = []

    async def standing(self, patron: str) -> Standing:
        self.asked.append(patron)
        if not self.reachable:
            raise DependencyUnavailable("loans is away", reason="LOANS_UNAVAILABLE", retry_after=1.0)
        return self.standings.get(patron, SETTLED)
