"""The loans unit of work over Postgres: one transaction, the repositories opened on it, the outbox at commit."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.loans.data.calendar_cache import ClosedDayCache
from services.loans.data.closed_days import SqlClosedDayRepository
from services.loans.data.fines import SqlFineRepository
from services.loans.data.holds import SqlHoldRepository
from services.loans.data.loans import SqlLoanRepository
from services.loans.data.patrons import SqlPatronRepository
from services.loans.data.rule_cache import RuleCache
from services.loans.data.rules import SqlRuleRepository
from services.loans.domain.branches import ANY_BRANCH, LibraryBranches
from services.support.runtime.db import EventEncoder, SqlAlchemyUnitOfWork
from services.support.runtime.idempotency import RequestLog
from services.support.runtime.repository import TrackingRepository


class SqlLoansUnitOfWork(SqlAlchemyUnitOfWork):
    """Implements app.ports.LoansUnitOfWork. Entered again, it opens a new transaction (a saga's next step)."""

    loans: SqlLoanRepository
    rules: SqlRuleRepository
    fines: SqlFineRepository
    holds: SqlHoldRepository
    patrons: SqlPatronRepository
    closed_days: SqlClosedDayRepository
    requests: RequestLog

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        encode: EventEncoder,
        on_commit: Callable[[], None] = lambda: None,
        read_sessions: async_sessionmaker[AsyncSession] | None = None,
        rule_cache: RuleCache | None = None,
        closed_day_cache: ClosedDayCache | None = None,
        on_driver: bool = False,
        branches: LibraryBranches = ANY_BRANCH,
    ) -> None:
        super().__init__(sessions, encode=encode, on_commit=on_commit, read_sessions=read_sessions, on_driver=on_driver)
        self._rule_cache = rule_cache
        self._closed_day_cache = closed_day_cache
        self.branches = branches

    async def commit(self) -> None:
        edited_rules, edited_calendar = self.rules.edited, self.closed_days.edited
        await super().commit()
        # After the commit: this process lends by the edit at once (the others: on its event).
        if edited_rules and self._rule_cache is not None:
            self._rule_cache.clear()
        if edited_calendar and self._closed_day_cache is not None:
            self._closed_day_cache.clear()

    def _open(self, session: AsyncSession) -> None:
        driver = self.repository_driver
        self.loans = SqlLoanRepository(session, driver=driver)
        self.rules = SqlRuleRepository(session, cache=self._rule_cache)
        self.fines = SqlFineRepository(session, driver=driver)
        self.holds = SqlHoldRepository(session, driver=driver)
        self.patrons = SqlPatronRepository(session, driver=driver)
        self.closed_days = SqlClosedDayRepository(session, cache=self._closed_day_cache)
        self.requests = RequestLog(session, driver=driver)

    def _repositories(self) -> tuple[TrackingRepository, ...]:
        return (self.loans, self.rules, self.fines, self.holds, self.closed_days)
