"""The users unit of work: one transaction over accounts, sessions, throttles, password resets and remembered
requests."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.support.runtime.db import EventEncoder, SqlAlchemyUnitOfWork
from services.support.runtime.idempotency import RequestLog
from services.support.runtime.repository import TrackingRepository
from services.users.data.password_resets import SqlPasswordResetRepository
from services.users.data.sessions import SqlSessionRepository
from services.users.data.throttles import SqlThrottleRepository
from services.users.data.users import SqlUserRepository


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
    ) -> None:
        super().__init__(sessions, encode=encode, on_commit=on_commit, read_sessions=read_sessions)
        self._announce = announce

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
