"""The users service's repositories in memory, each over a FakeTable: committed rows plus one unit of
work's writes (fakes.FakeUsersUnitOfWork opens them and commits them)."""

from __future__ import annotations

import copy
import uuid
from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime
from typing import Any, Generic, TypeVar

from services.support.runtime.conflicts import CONCURRENT_UPDATE
from services.support.runtime.errors import AlreadyExists, Conflict, InvalidArgument
from services.users.app.ports import UserCursor, UserFilter
from services.users.domain.accounts import USER, CardNumberTaken, User, UserNotFound
from services.users.domain.last_admin import is_active_admin
from services.users.domain.password_resets import PasswordReset
from services.users.domain.patron_search import name_matches
from services.users.domain.sessions import RefreshToken, Session
from services.users.domain.throttling import SignInThrottle

K = TypeVar("K")
V = TypeVar("V")


def _stored(value: V) -> V:
    """A copy as a row would hold it: no pending events or tokens."""
    stored = copy.deepcopy(value)
    for transient in ("events", "issued"):
        if isinstance(getattr(stored, transient, None), list):
            getattr(stored, transient).clear()
    return stored


class FakeTable(Generic[K, V]):
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
    def __init__(self, table: FakeTable[uuid.UUID, User]) -> None:
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
    def __init__(self, sessions: FakeTable[uuid.UUID, Session], tokens: FakeTable[str, RefreshToken]) -> None:
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
    def __init__(self, table: FakeTable[str, SignInThrottle]) -> None:
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
    def __init__(self, table: FakeTable[uuid.UUID, PasswordReset]) -> None:
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
    def __init__(self, table: FakeTable[uuid.UUID, tuple[str, str]]) -> None:
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
