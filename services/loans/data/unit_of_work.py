"""The loans unit of work over Postgres: one transaction, the repositories opened on it, the outbox at commit."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.loans.data.fines import SqlFineRepository
from services.loans.data.holds import SqlHoldRepository
from services.loans.data.loans import SqlLoanRepository
from services.loans.data.rules import SqlRuleRepository
from services.support.runtime.db import SqlAlchemyUnitOfWork, TrackingRepository
from services.support.runtime.idempotency import RequestLog


class SqlLoansUnitOfWork(SqlAlchemyUnitOfWork):
    """Implements app.ports.LoansUnitOfWork. Entered again, it opens a new transaction (a saga's next step)."""

    loans: SqlLoanRepository
    rules: SqlRuleRepository
    fines: SqlFineRepository
    holds: SqlHoldRepository
    requests: RequestLog

    def _open(self, session: AsyncSession) -> None:
        self.loans = SqlLoanRepository(session)
        self.rules = SqlRuleRepository(session)
        self.fines = SqlFineRepository(session)
        self.holds = SqlHoldRepository(session)
        self.requests = RequestLog(session)

    def _repositories(self) -> tuple[TrackingRepository, ...]:
        return (self.loans, self.rules, self.fines, self.holds)
