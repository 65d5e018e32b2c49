"""The users unit of work: one transaction over accounts, sessions, throttles and remembered requests."""

from __future__ import annotations

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

    def _open(self, session: AsyncSession) -> None:
        self.users = SqlUserRepository(session, driver=self.repository_driver)
        self.sessions = SqlSessionRepository(session)
        self.throttles = SqlThrottleRepository(session)
        self.requests = RequestLog(session)

    def _repositories(self) -> tuple[TrackingRepository, ...]:
        return (self.users, self.sessions, self.throttles)
