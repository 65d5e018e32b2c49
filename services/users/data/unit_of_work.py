"""The users unit of work: one transaction over accounts, sessions, throttles, password resets and remembered
requests."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.support.runtime.auth import Revocation
from services.support.runtime.db import EventEncoder, SqlAlchemyUnitOfWork
from services.support.runtime.idempotency import RequestLog
from services.support.runtime.repository import TrackingRepository
from services.users.data.password_resets import SqlPasswordResetRepository
from services.users.data.sessions import SqlSessionRepository
from services.users.data.throttles import SqlThrottleRepository
from services.users.data.users import SqlUserRepository
from services.users.domain.sessions import SessionRevoked


class SqlUsersUnitOfWork(SqlAlchemyUnitOfWork):
    users: SqlUserRepository
    sessions: SqlSessionRepository
    throttles: SqlThrottleRepository
    resets: SqlPasswordResetRepository
    requests: RequestLog

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        encode: EventEncoder,
        on_commit: Callable[[], None] = lambda: None,
        read_sessions: async_sessionmaker[AsyncSession] | None = None,
        announce: Callable[[], Awaitable[bool]] | None = None,
        revoked: Callable[[Revocation], None] = lambda _: None,
    ) -> None:
        super().__init__(sessions, encode=encode, on_commit=on_commit, read_sessions=read_sessions)
        self._announce = announce
        self._revoked = revoked

    async def commit(self) -> None:
        """Commits; then this process refuses the access tokens of every session the transaction revoked at
        once (`revoked`), without waiting for its own revocation to come back from the bus: the caller is
        about to be told the session is over, and the bus may be away."""
        ended = [
            Revocation(str(event.session_id), event.expires_at)
            for repository in self._repositories()
            for aggregate in repository.seen
            for event in aggregate.events
            if isinstance(event, SessionRevoked)
        ]
        await super().commit()
        for revocation in ended:
            self._revoked(revocation)

    async def announced(self) -> bool:
        """Whether every event committed so far has reached the message bus (none to wait for: True)."""
        return True if self._announce is None else await self._announce()

    def _open(self, session: AsyncSession) -> None:
        self.users = SqlUserRepository(session, driver=self.repository_driver)
        self.sessions = SqlSessionRepository(session)
        self.throttles = SqlThrottleRepository(session)
        self.resets = SqlPasswordResetRepository(session)
        self.requests = RequestLog(session)

    def _repositories(self) -> tuple[TrackingRepository, ...]:
        return (self.users, self.sessions, self.throttles, self.resets)
