"""The users unit of work: one transaction over accounts, sessions, throttles and remembered requests."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.support.runtime.db import SqlAlchemyUnitOfWork
from services.support.runtime.idempotency import RequestLog
from services.support.runtime.repository import TrackingRepository
from services.users.data.sessions import SqlSessionRepository
from services.users.data.throttles import SqlThrottleRepository
from services.users.data.users import SqlUserRepository


class SqlUsersUnitOfWork(SqlAlchemyUnitOfWork):
    users: SqlUserRepository
    sessions: SqlSessionRepository
    throttles: SqlThrottleRepository
    requests: RequestLog

    def __init__(self, *args: Any, announce: Callable[[], Awaitable[bool]] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._announce = announce

    async def announced(self) -> bool:
        """Whether every event committed so far has reached the message bus (none to wait for: True)."""
        return True if self._announce is None else await self._announce()

    def _open(self, session: AsyncSession) -> None:
        self.users = SqlUserRepository(session, driver=self.repository_driver)
        self.sessions = SqlSessionRepository(session)
        self.throttles = SqlThrottleRepository(session)
        self.requests = RequestLog(session)

    def _repositories(self) -> tuple[TrackingRepository, ...]:
        return (self.users, self.sessions, self.throttles)
