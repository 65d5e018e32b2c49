"""What the loans integration tests share: the World (use cases over a real database, fake peers, a clock
the test moves) and the actors who call them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from unit.loans.fake_peers import FakeCatalog, FakeUsers

from services.loans.api import events
from services.loans.app.holding import CancelHold, PlaceHold, cancel_hold, place_hold
from services.loans.app.issuing import IssueLoan, issue_loan, no_fault
from services.loans.app.reconciling import ReconcileCirculation, ReconcilePolicy, ReconcileReport, reconcile_circulation
from services.loans.app.renewing import RenewLoan, renew_loan
from services.loans.app.returning import ReturnLoan, return_loan
from services.loans.data.tables import circulation_rules
from services.loans.data.unit_of_work import SqlLoansUnitOfWork
from services.loans.domain.actors import Actor
from services.loans.domain.borrowing import BorrowingPolicy
from services.loans.domain.holds import Hold
from services.loans.domain.loans import Loan
from services.support.runtime.clock import FixedClock
from services.support.runtime.identity import Role
from services.support.runtime.outbox import OUTBOX

START = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
DESK = Actor(user="users/librarian", role=Role.LIBRARIAN)
ADMIN = Actor(user="users/admin", role=Role.ADMIN)
CURRENCY = "RUB"


@dataclass
class World:
    """A loans service's use cases over a real database, with fake peers and a clock the test moves.

    `uow()` is a fresh unit of work, as the servicer makes one per call; the methods below call the use
    cases that need the peers, with the ports main.py would pass."""

    sessions: async_sessionmaker[AsyncSession]
    catalog: FakeCatalog
    users: FakeUsers
    clock: FixedClock
    engine: AsyncEngine
    policy: BorrowingPolicy = field(default_factory=BorrowingPolicy)
    reconcile_policy: ReconcilePolicy = field(default_factory=ReconcilePolicy)

    def uow(self) -> SqlLoansUnitOfWork:
        return SqlLoansUnitOfWork(self.sessions, encode=events.encode)

    async def issue(self, cmd: IssueLoan, *, after_checkout: Callable[[], None] = no_fault) -> Loan:
        return await issue_loan(
            cmd,
            uow=self.uow(),
            clock=self.clock,
            users=self.users,
            catalog=self.catalog,
            policy=self.policy,
            after_checkout=after_checkout,
        )

    async def return_loan(self, cmd: ReturnLoan) -> Loan:
        return await return_loan(cmd, uow=self.uow(), clock=self.clock, catalog=self.catalog, currency=CURRENCY)

    async def renew(self, cmd: RenewLoan) -> Loan:
        return await renew_loan(cmd, uow=self.uow(), clock=self.clock, users=self.users)

    async def place_hold(self, cmd: PlaceHold) -> Hold:
        return await place_hold(cmd, uow=self.uow(), clock=self.clock, users=self.users, catalog=self.catalog)

    async def cancel_hold(self, cmd: CancelHold) -> Hold:
        return await cancel_hold(cmd, uow=self.uow(), clock=self.clock, catalog=self.catalog)

    async def reconcile(self, *, dry_run: bool = False) -> ReconcileReport:
        return await reconcile_circulation(
            ReconcileCirculation(dry_run=dry_run),
            uow=self.uow(),
            clock=self.clock,
            catalog=self.catalog,
            currency=CURRENCY,
            policy=self.reconcile_policy,
        )

    async def subjects(self) -> list[str]:
        """Outbox subjects in commit order."""
        async with self.engine.connect() as connection:
            rows = await connection.execute(sa.select(OUTBOX.c.subject).order_by(OUTBOX.c.seq))
            return [row.subject.split(".")[2] for row in rows]

    async def set_default_rule(self, **terms: object) -> None:
        async with self.engine.begin() as connection:
            await connection.execute(
                circulation_rules.update()
                .where(circulation_rules.c.patron_category == "*", circulation_rules.c.item_type == "*")
                .values(**terms)
            )

    async def scalar(self, statement: sa.Executable) -> object:
        async with self.engine.connect() as connection:
            return (await connection.execute(statement)).scalar()
