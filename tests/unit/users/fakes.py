"""In-memory ports for the users use cases (cosmicpython's FakeUnitOfWork): the same Protocols, dicts for tables.

Faithful where the use cases rely on the database: a unit of work reads committed state plus its own
writes, keeps its writes only when it commits (leaving without a commit drops them), hands out copies (a
change that is not saved is lost, as with SQL), checks versions, unique emails and card numbers, and on
commit drains the events of every aggregate it handed out, as the outbox would store them.
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from types import TracebackType
from typing import Any, Generic, Self, TypeVar

from services.support.runtime.conflicts import CONCURRENT_UPDATE
from services.support.runtime.errors import AlreadyExists, Conflict, DependencyUnavailable, InvalidArgument
from services.support.runtime.events import DomainEvent
from services.users.app.ports import UserCursor, UserFilter
from services.users.domain.accounts import (
    SETTLED,
    USER,
    CardNumberTaken,
    Standing,
    User,
    UserNotFound,
)
from services.users.domain.last_admin import is_active_admin
from services.users.domain.password_resets import PasswordReset
from services.users.domain.patron_search import name_matches
from services.users.domain.sessions import RefreshToken, Session
from services.users.domain.signing_keys import Keyring, SigningKey
from services.users.domain.throttling import SignInThrottle

K = TypeVar("K")
V = TypeVar("V")


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

    @property
    def published(self) -> list[DomainEvent]:
        """Every event committed so far, in order (what the outbox relay would publish)."""
        return [event for commit in self.commits for event in commit.events]

    def unit_of_work(self) -> FakeUsersUnitOfWork:
        return FakeUsersUnitOfWork(self)


def _stored(value: V) -> V:
    """A copy as a row would hold it: no pending events or tokens."""
    stored = copy.deepcopy(value)
    for transient in ("events", "issued"):
        if isinstance(getattr(stored, transient, None), list):
            getattr(stored, transient).clear()
    return stored


class _Table(Generic[K, V]):
    """Committed rows plus this transaction's writes (read committed, like Postgres' default)."""

    def __init__(self, name: str, committed: dict[K, V]) -> None:
        self.name = name
        self._committed = committed
        self._written: dict[K, V] = {}
        self._deleted: set[K] = set()

    def get(self, key: K) -> V | None:
        if key in self._deleted:
            return None
        value = self._written.get(key, self._committed.get(key))
        return copy.deepcopy(value) if value is not None else None

    def put(self, key: K, value: V) -> None:
        self._deleted.discard(key)
        self._written[key] = _stored(value)

    def rows(self) -> list[V]:
        rows = {**self._committed, **self._written}
        return [copy.deepcopy(value) for key, value in rows.items() if key not in self._deleted]

    def delete(self, key: K) -> None:
        self._written.pop(key, None)
        self._deleted.add(key)

    def commit(self) -> bool:
        for key in self._deleted:
            self._committed.pop(key, None)
        self._committed.update(self._written)
        written, self._written = bool(self._written or self._deleted), {}
        self._deleted = set()
        return written


class _Tracking:
    def __init__(self) -> None:
        self.seen: list[Any] = []

    def _track(self, aggregate: V) -> V:
        self.seen.append(aggregate)
        return aggregate


class FakeUserRepository(_Tracking):
    def __init__(self, table: _Table[uuid.UUID, User]) -> None:
        super().__init__()
        self._table = table

    async def add(self, user: User) -> None:
        for other in self._table.rows():
            if other.profile.email == user.profile.email:
                raise AlreadyExists("an account with this email already exists", reason="EMAIL_TAKEN")
            if other.card_number == user.card_number:
                raise CardNumberTaken(user.card_number)
        self._table.put(user.id, user)
        self._track(user)

    async def get(self, user_id: uuid.UUID) -> User:
        user = self._table.get(user_id)
        if user is None:
            raise UserNotFound(USER.format(user_id))
        return self._track(user)

    async def find_by_email(self, email: str) -> User | None:
        found = [user for user in self._table.rows() if user.profile.email == email]
        return self._track(found[0]) if found else None

    async def save(self, user: User) -> None:
        stored = self._table.get(user.id)
        if stored is None or stored.version != user.version - 1:
            raise Conflict(f"{user.name} was changed concurrently", reason=CONCURRENT_UPDATE)
        if any(other.profile.email == user.profile.email and other.id != user.id for other in self._table.rows()):
            raise AlreadyExists("an account with this email already exists", reason="EMAIL_TAKEN")
        # As in SQL: an account change never writes the hash.
        self._table.put(user.id, replace(user, password_hash=stored.password_hash))

    async def replace_password_hash(self, user_id: uuid.UUID, *, previous: str, new: str) -> bool:
        stored = self._table.get(user_id)
        if stored is None or stored.password_hash != previous:
            return False
        stored.password_hash = new
        self._table.put(user_id, stored)
        return True

    async def list_newest_first(
        self, where: UserFilter, *, now: datetime, after: UserCursor | None, limit: int
    ) -> list[User]:
        found = sorted(_matching(self._table.rows(), where, now), key=lambda u: (u.created_at, u.id), reverse=True)
        if after is not None:
            found = [user for user in found if (user.created_at, user.id) < (after.created_at, after.user_id)]
        return found[:limit]

    async def lock_active_admins(self, *, now: datetime) -> list[uuid.UUID]:
        return [user.id for user in self._table.rows() if is_active_admin(user.profile, now=now)]

    async def count(self, where: UserFilter, *, now: datetime) -> int:
        return len(_matching(self._table.rows(), where, now))


def _matching(users: Iterable[User], where: UserFilter, now: datetime) -> list[User]:
    def matches(user: User) -> bool:
        p = user.profile
        return (
            (where.role is None or p.role == where.role)
            and (where.status is None or p.effective_status(now) == where.status)
            and (not where.patron_category or p.patron_category == where.patron_category)
            and (not where.text or (exact(user) if where.exact else contains(user)))
        )

    def exact(user: User) -> bool:
        return where.text == user.card_number or where.text.lower() == user.profile.email

    def contains(user: User) -> bool:
        p = user.profile
        texts = (p.email, p.phone, user.card_number)
        return any(where.text.lower() in text.lower() for text in texts) or name_matches(where.text, p.display_name)

    return [user for user in users if matches(user)]


class FakeSessionRepository(_Tracking):
    def __init__(self, sessions: _Table[uuid.UUID, Session], tokens: _Table[str, RefreshToken]) -> None:
        super().__init__()
        self._sessions = sessions
        self._tokens = tokens

    async def add(self, session: Session) -> None:
        self._sessions.put(session.id, session)
        self._track(session)

    async def get(self, session_id: uuid.UUID) -> Session:
        session = self._sessions.get(session_id)
        assert session is not None, "a refresh token always belongs to a stored session"
        return self._track(session)

    async def find_refresh_token(self, digest: str) -> RefreshToken | None:
        return self._tokens.get(digest)

    async def active_of(self, user_id: uuid.UUID) -> list[Session]:
        rows = self._sessions.rows()
        return [self._track(s) for s in rows if s.user_id == user_id and s.revoked_at is None]

    async def save(self, session: Session, *, spent: RefreshToken | None = None) -> None:
        self._sessions.put(session.id, session)
        if spent is not None:
            self._tokens.put(spent.digest, spent)
        for token in session.issued:
            self._tokens.put(token.digest, token)
        session.issued.clear()


class FakeThrottleRepository(_Tracking):
    def __init__(self, table: _Table[str, SignInThrottle]) -> None:
        super().__init__()
        self._table = table

    async def get(self, key: str) -> SignInThrottle:
        throttle = self._table.get(key)
        if throttle is None:
            throttle = SignInThrottle(key)
            self._table.put(key, throttle)
        return self._track(throttle)

    async def save(self, throttle: SignInThrottle) -> None:
        self._table.put(throttle.key, throttle)


class FakePasswordResetRepository(_Tracking):
    def __init__(self, table: _Table[uuid.UUID, PasswordReset]) -> None:
        super().__init__()
        self._table = table

    async def of_user(self, user_id: uuid.UUID) -> PasswordReset | None:
        return self._table.get(user_id)

    async def find(self, digest: str) -> PasswordReset | None:
        found = [reset for reset in self._table.rows() if reset.digest == digest]
        return found[0] if found else None

    async def replace(self, reset: PasswordReset) -> None:
        self._table.put(reset.user_id, reset)
        self._track(reset)

    async def remove(self, user_id: uuid.UUID) -> None:
        self._table.delete(user_id)


class FakeRequestLog:
    def __init__(self, table: _Table[uuid.UUID, tuple[str, str]]) -> None:
        self._table = table

    async def recall(self, request_id: uuid.UUID | None, operation: str) -> str | None:
        remembered = self._table.get(request_id) if request_id is not None else None
        if remembered is None:
            return None
        if remembered[0] != operation:
            raise InvalidArgument.field("request_id", f"was already used for {remembered[0]}")
        return remembered[1]

    async def remember(self, request_id: uuid.UUID | None, operation: str, resource: str) -> None:
        if request_id is not None:
            self._table.put(request_id, (operation, resource))


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
        return self._db.bus_reachable

    def reading(self) -> Self:
        self._reading = True  # this block must not commit
        return self

    async def __aenter__(self) -> Self:
        db = self._db
        self._tables: list[_Table[Any, Any]] = [
            users := _Table("users", db.users),
            sessions := _Table("sessions", db.sessions),
            tokens := _Table("refresh_tokens", db.refresh_tokens),
            throttles := _Table("sign_in_throttles", db.throttles),
            resets := _Table("password_resets", db.resets),
            requests := _Table("idempotent_requests", db.requests),
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
