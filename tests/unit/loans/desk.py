"""The use cases called as the servicer calls them: a fresh unit of work per call, the ports main.py passes.

The unit tests build it over the in-memory database, the integration tests over Postgres (loans_world.World).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

import pytest

from services.loans.app.holding import CancelHold, PlaceHold, cancel_hold, place_hold
from services.loans.app.issuing import IssueLoan, issue_loan, no_fault
from services.loans.app.losing import DeclareLoanLost, declare_loan_lost
from services.loans.app.ports import LoansUnitOfWork
from services.loans.app.receiving import ReceiveHoldCopy, receive_hold_copy
from services.loans.app.reconciling import ReconcileCirculation, ReconcilePolicy, ReconcileReport, reconcile_circulation
from services.loans.app.renewing import RenewLoan, renew_loan
from services.loans.app.returning import ReturnLoan, return_loan
from services.loans.domain.actors import Actor
from services.loans.domain.borrowing import BorrowingPolicy
from services.loans.domain.branches import ANY_BRANCH, LibraryBranches
from services.loans.domain.holds import Hold
from services.loans.domain.loans import Loan
from services.support.runtime.clock import FixedClock
from services.support.runtime.identity import Role

from .fake_peers import FakeCatalog, FakeUsers

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
DESK = Actor(user="users/librarian", role=Role.LIBRARIAN)
ADMIN = Actor(user="users/admin", role=Role.ADMIN)
CURRENCY = "RUB"


def reader(patron: str) -> Actor:
    return Actor(user=patron, role=Role.READER)


class Crash(BaseException):
    """Stands for the process dying between the catalog step and the loan's commit."""


def crash() -> None:
    """An `after_checkout` fault: the process is gone before the loan is committed ACTIVE."""
    raise Crash


def crash_after_check_in(catalog: FakeCatalog, monkeypatch: pytest.MonkeyPatch) -> None:
    """The catalog takes the copy back, then the loans process dies before the loan is closed."""
    checked_in = catalog.check_in

    async def check_in_then_crash(**step: str) -> object:
        await checked_in(**step)
        raise Crash

    monkeypatch.setattr(catalog, "check_in", check_in_then_crash)


@dataclass(kw_only=True)
class Desk:
    """The ports of a loans process, and the use cases that need more than a unit of work and a clock."""

    new_uow: Callable[[], LoansUnitOfWork]
    clock: FixedClock
    users: FakeUsers
    catalog: FakeCatalog
    policy: BorrowingPolicy = field(default_factory=BorrowingPolicy)
    reconcile_policy: ReconcilePolicy = field(default_factory=ReconcilePolicy)
    branches: LibraryBranches = ANY_BRANCH

    def uow(self) -> LoansUnitOfWork:
        return self.new_uow()

    async def issue(self, cmd: IssueLoan, *, after_checkout: Callable[[], None] = no_fault) -> Loan:
        return await issue_loan(
            cmd,
            uow=self.uow(),
            clock=self.clock,
            users=self.users,
            catalog=self.catalog,
            policy=self.policy,
            currency=CURRENCY,
            after_checkout=after_checkout,
        )

    async def return_loan(self, cmd: ReturnLoan) -> Loan:
        return await return_loan(
            cmd,
            uow=self.uow(),
            clock=self.clock,
            catalog=self.catalog,
            currency=CURRENCY,
            zone=self.policy.time_zone,
            saga_timeout=self.reconcile_policy.saga_timeout,
            branches=self.branches,
        )

    async def declare_lost(self, cmd: DeclareLoanLost) -> Loan:
        return await declare_loan_lost(
            cmd, uow=self.uow(), clock=self.clock, catalog=self.catalog, currency=CURRENCY, zone=self.policy.time_zone
        )

    async def renew(self, cmd: RenewLoan) -> Loan:
        return await renew_loan(cmd, uow=self.uow(), clock=self.clock, users=self.users, policy=self.policy)

    async def place_hold(self, cmd: PlaceHold) -> Hold:
        return await place_hold(
            cmd,
            uow=self.uow(),
            clock=self.clock,
            users=self.users,
            catalog=self.catalog,
            policy=self.policy,
            branches=self.branches,
        )

    async def receive(self, copy: str, *, branch: str = "MAIN", actor: Actor | None = None) -> Hold:
        """The pickup desk (MAIN, the fake patrons' home branch) scans a copy set aside for a hold."""
        command = ReceiveHoldCopy(self.catalog.barcode(copy), branch, actor=actor or DESK)
        return await receive_hold_copy(
            command,
            uow=self.uow(),
            clock=self.clock,
            catalog=self.catalog,
            zone=self.policy.time_zone,
            branches=self.branches,
        )

    async def cancel_hold(self, cmd: CancelHold) -> Hold:
        return await cancel_hold(
            cmd, uow=self.uow(), clock=self.clock, catalog=self.catalog, zone=self.policy.time_zone
        )

    async def reconcile(self, *, dry_run: bool = False) -> ReconcileReport:
        return await reconcile_circulation(
            ReconcileCirculation(dry_run=dry_run),
            uow=self.uow(),
            clock=self.clock,
            catalog=self.catalog,
            currency=CURRENCY,
            policy=replace(self.reconcile_policy, time_zone=self.policy.time_zone),  # one library, one time zone
        )
