"""The events service's unit of work: one transaction over the log and its partitions."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.events.data.metrics import STORED
from services.events.data.partitions import SqlPartitionRepository
from services.events.data.repository import SqlEventRepository
from services.support.runtime.db import SqlAlchemyUnitOfWork
from services.support.runtime.outbox import OutboxMessage
from services.support.runtime.repository import TrackingRepository


def _publishes_nothing(event: Any) -> OutboxMessage:
    raise TypeError(f"the events service publishes no domain events, not even {type(event).__name__}")


class SqlEventsUnitOfWork(SqlAlchemyUnitOfWork):
    events: SqlEventRepository
    partitions: SqlPartitionRepository

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        super().__init__(sessions, encode=_publishes_nothing)

    def _open(self, session: AsyncSession) -> None:
        self.events = SqlEventRepository(session)
        self.partitions = SqlPartitionRepository(session)

    def _repositories(self) -> Iterable[TrackingRepository]:
        return (self.events,)

    async def commit(self) -> None:
        await super().commit()
        STORED.inc(self.events.added)
        self.events.added = 0
