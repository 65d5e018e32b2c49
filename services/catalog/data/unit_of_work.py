"""The catalog's unit of work in Postgres: one transaction, its repositories, and the outbox at commit."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.catalog.data.books import SqlBookRepository
from services.catalog.data.copies import SqlCopyRepository
from services.catalog.data.item_types import SqlItemTypeRepository
from services.catalog.data.search import SqlBookSearch
from services.support.runtime.db import SqlAlchemyUnitOfWork
from services.support.runtime.idempotency import RequestLog
from services.support.runtime.repository import TrackingRepository


class SqlCatalogUnitOfWork(SqlAlchemyUnitOfWork):
    books: SqlBookRepository
    copies: SqlCopyRepository
    item_types: SqlItemTypeRepository
    requests: RequestLog
    search: SqlBookSearch

    def _open(self, session: AsyncSession) -> None:
        self.books = SqlBookRepository(session, driver=self.repository_driver)
        self.copies = SqlCopyRepository(session, driver=self.repository_driver)
        self.item_types = SqlItemTypeRepository(session, driver=self.repository_driver)
        self.requests = RequestLog(session)
        self.search = SqlBookSearch(session, driver=self.repository_driver)

    def _repositories(self) -> tuple[TrackingRepository, ...]:
        return (self.books, self.copies, self.item_types)

    async def lock(self, key: str) -> None:
        """Serialises transactions on `key` (e.g. a loan id) until this one ends: a transaction advisory lock."""
        await self.advisory_lock(key)
