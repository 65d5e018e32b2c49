"""The loans database in memory, behind the same ports as the SQL one (cosmicpython's FakeUnitOfWork).

Each `async with uow:` is a transaction: repositories hand out copies, `add`/`save` stage snapshots, and only
`commit()` makes them visible to later transactions and publishes the events the aggregates recorded;
leaving without a commit forgets both, as a rollback does. The database's own checks are kept: optimistic
versions (CONCURRENT_UPDATE), one ACTIVE loan per copy, one live loan per request_id, one rule per category
and item type, one active hold per patron and book.
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Collection
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from decimal import Decimal
from types import TracebackType
from typing import Any, Self, TypeVar

from services.loans.domain.branches import ANY_BRANCH, LibraryBranches
from services.loans.domain.calendar import ClosedDay
from services.loans.domain.fines import Fine, FineEntry
from services.loans.domain.holds import Hold
from services.loans.domain.loans import Loan
from services.loans.domain.patrons import PatronRecord
from services.loans.domain.rules import CirculationRule, RuleTerms
from services.support.runtime.conflicts import CONCURRENT_UPDATE
from services.support.runtime.errors import Conflict
from services.support.runtime.events import DomainEvent

from .fake_hold_repository import FakeHoldRepository
from .fake_repositories import FakeLoanRepository, FakeRequestLog
from .fake_rules_and_fines import FakeClosedDayRepository, FakeFineRepository, FakeRuleRepository

T = TypeVar("T")
TABLES = ("loans", "rules", "fines", "holds", "closed_days")
DEFAULT_TERMS = RuleTerms(
    "*", "*", fine_per_day=Decimal("0.10"), fine_cap=Decimal("5.00"), max_outstanding_fines=Decimal("10.00")
)
"""The */* row the first migration seeds."""


@dataclass
class FakeLoansDatabase:
    """Committed state, shared by every unit of work made from it."""

    loans: dict[uuid.UUID, Loan] = field(default_factory=dict)
    rules: dict[uuid.UUID, CirculationRule] = field(default_factory=dict)
    fines: dict[uuid.UUID, Fine] = field(default_factory=dict)
    fine_entries: dict[uuid.UUID, list[FineEntry]] = field(default_factory=dict)
    holds: dict[uuid.UUID, Hold] = field(default_factory=dict)
    closed_days: dict[date, ClosedDay] = field(default_factory=dict)
    hold_seq: dict[uuid.UUID, int] = field(default_factory=dict)
    """The order holds were placed in (a book's queue)."""
    requests: dict[uuid.UUID, tuple[str, str]] = field(default_factory=dict)
    patrons: dict[str, PatronRecord] = field(default_factory=dict)
    """The projection of accounts, by patron name."""
    item_type_renames: dict[str, datetime] = field(default_factory=dict)
    charges_held: dict[str, datetime] = field(default_factory=dict)
    """Patrons whose charges are held (an account being closed), until when (account_closings)."""
    """The catalog's renames the rules followed: code -> when it was given (item_type_renames)."""
    patron_feed: dict[str, str] = field(default_factory=dict)
    """stream -> the creation stamp of the stream the projection was built from."""
    events: list[DomainEvent] = field(default_factory=list)
    """Every event committed, in commit order: what the outbox would hold."""
    commits: int = 0
    fine_reads: int = 0
    """Reads of overdue fines (statements, in Postgres)."""
    single_writes: int = 0
    """Of the commits, those of single-write blocks."""
    leading: set[str] = field(default_factory=set)
    row_locks: set[uuid.UUID] = field(default_factory=set)
    """Holds whose rows an open transaction locked (`get(for_update=True)`)."""
    branches: LibraryBranches = ANY_BRANCH
    """The library's branches (the setting), as every unit of work made from it knows them."""
    """Tasks an open transaction leads (Postgres: its transaction-scoped advisory locks)."""

    @classmethod
    def migrated(cls) -> FakeLoansDatabase:
        """As the migrations leave it: the */* default rule only."""
        database = cls()
        default = CirculationRule.create(DEFAULT_TERMS, now=datetime(2026, 1, 1, tzinfo=UTC))
        database.rules[default.id] = _snapshot(default)
        database.item_type_renames["*"] = datetime(2026, 1, 1, tzinfo=UTC)  # renames before it: followed
        return database

    def unit_of_work(self) -> FakeLoansUnitOfWork:
        return FakeLoansUnitOfWork(self)

    def event_types(self) -> list[str]:
        return [type(event).__name__ for event in self.events]

    def set_default_rule(self, **terms: Any) -> None:
        """Change the */* row behind the use cases' back (as a test's UPDATE would)."""
        default = next(rule for rule in self.rules.values() if rule.is_default)
        default.terms = replace(default.terms, **terms)


def _snapshot(aggregate: T) -> T:
    """What a transaction writes: the aggregate's state, without what it recorded for the outbox."""
    stored = copy.deepcopy(aggregate)
    stored.events.clear()  # type: ignore[attr-defined]
    if isinstance(stored, Fine):
        stored.new_entries.clear()
    return stored


class Transaction:
    """Staged writes over the committed state, and the aggregates whose events a commit publishes."""

    def __init__(self, database: FakeLoansDatabase) -> None:
        self.database = database
        self.staged: dict[str, dict[uuid.UUID, Any]] = {table: {} for table in TABLES}
        self.deleted: set[uuid.UUID] = set()
        self.entries: dict[uuid.UUID, list[FineEntry]] = {}
        self.requests: dict[uuid.UUID, tuple[str, str]] = {}
        self.patrons: dict[str, PatronRecord] = {}
        self.item_type_renames: dict[str, datetime] = {}
        self.charges_held: dict[str, datetime] = {}
        self.seen: dict[str, list[Any]] = {table: [] for table in TABLES}
        self.led: set[str] = set()
        self.locked: set[str] = set()
        self.row_locks: set[uuid.UUID] = set()
        self.carried = False
        """A write carried the events and request record recorded before it (`close_unless_fined`)."""

    def rows(self, table: str) -> dict[uuid.UUID, Any]:
        """The table as this transaction sees it, its own writes included."""
        merged = {**getattr(self.database, table), **self.staged[table]}
        return {key: row for key, row in merged.items() if key not in self.deleted}

    def hand_out(self, table: str, row: T) -> T:
        """A copy for the use case to change; its events are published if this transaction commits. As a row
        read from a database, it has recorded nothing yet (a test may have put an aggregate in directly)."""
        aggregate = copy.deepcopy(row)
        aggregate.events.clear()
        self.seen[table].append(aggregate)
        return aggregate

    def stage(self, table: str, aggregate: Any) -> None:
        self.staged[table][aggregate.id] = _snapshot(aggregate)
        self.seen[table].append(aggregate)

    def check_version(self, table: str, aggregate: Any, *, seen: int) -> None:
        stored = self.rows(table).get(aggregate.id)
        if stored is None or stored.version != seen:
            raise Conflict(f"{aggregate.name} was changed concurrently; re-read it and retry", reason=CONCURRENT_UPDATE)

    def ensure_single_write(self) -> None:
        """What a single-write block's commit checks: one row written at most, no lock, and no event or request
        record unless its write carried them."""
        writes = [*self.deleted, *self.entries, *self.patrons, *([] if self.carried else self.requests)]
        writes += [row for rows in self.staged.values() for row in rows]
        assert len(writes) <= 1, f"a single-write block wrote {len(writes)} rows"
        events = any(a.events for seen in self.seen.values() for a in seen)
        assert self.carried or not events, "a single-write block has events its write does not carry"
        assert not self.led and not self.locked, "a single-write block takes no lock"

    def commit(self) -> None:
        database = self.database
        for table, rows in self.staged.items():
            getattr(database, table).update(rows)
        for table in TABLES:
            for row_id in self.deleted:
                getattr(database, table).pop(row_id, None)
        for fine_id, entries in self.entries.items():
            database.fine_entries.setdefault(fine_id, []).extend(entries)
        database.requests.update(self.requests)
        database.patrons.update(self.patrons)
        for patron, until in self.charges_held.items():
            database.charges_held[patron] = max(until, database.charges_held.get(patron, until))
        for code, renamed_at in self.item_type_renames.items():
            database.item_type_renames[code] = max(renamed_at, database.item_type_renames.get(code, renamed_at))
        for table in TABLES:  # the order the SQL unit of work drains its repositories in
            for aggregate in self.seen[table]:
                database.events.extend(aggregate.events)
                aggregate.events.clear()
        database.commits += 1


class FakeLoansUnitOfWork:
    """Implements app.ports.LoansUnitOfWork over a FakeLoansDatabase; entered again, a new transaction."""

    def __init__(self, database: FakeLoansDatabase) -> None:
        self.database = database
        self._transaction: Transaction | None = None
        self._reading = self._single = False

    @property
    def _open(self) -> Transaction:
        assert self._transaction is not None, "use the unit of work inside `async with`"
        return self._transaction

    @property
    def loans(self) -> FakeLoanRepository:
        return FakeLoanRepository(self._open)

    @property
    def rules(self) -> FakeRuleRepository:
        return FakeRuleRepository(self._open)

    @property
    def fines(self) -> FakeFineRepository:
        return FakeFineRepository(self._open)

    @property
    def holds(self) -> FakeHoldRepository:
        return FakeHoldRepository(self._open)

    @property
    def patrons(self) -> FakePatronRepository:
        return FakePatronRepository(self._open)

    @property
    def closed_days(self) -> FakeClosedDayRepository:
        return FakeClosedDayRepository(self._open)

    @property
    def requests(self) -> FakeRequestLog:
        return FakeRequestLog(self._open)

    @property
    def branches(self) -> LibraryBranches:
        return self.database.branches

    def reading(self) -> Self:
        self._reading = True  # this block must not commit
        return self

    def single_write(self) -> Self:
        self._single = True  # this block writes once, takes no lock and records no event
        return self

    async def __aenter__(self) -> Self:
        assert self._transaction is None, "a unit of work is entered once per transaction, never nested"
        self._transaction = Transaction(self.database)
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._end_leading()
        self._transaction = None  # what was not committed is forgotten
        self._reading = self._single = False

    async def commit(self) -> None:
        assert not self._reading, "a block entered with reading() commits nothing"
        if self._single:
            self._open.ensure_single_write()
            self.database.single_writes += 1
        self._open.commit()
        self._end_leading()
        self._transaction = Transaction(self.database)  # as after a SQL commit: a fresh transaction

    async def lead(self, task: str) -> bool:
        if task in self.database.leading:
            return task in self._open.led
        self.database.leading.add(task)
        self._open.led.add(task)
        return True

    def _end_leading(self) -> None:
        if self._transaction is not None:
            self.database.leading -= self._transaction.led
            self.database.row_locks -= self._transaction.row_locks


class FakePatronRepository:
    def __init__(self, transaction: Transaction) -> None:
        self._transaction = transaction

    async def get(self, patron: str) -> PatronRecord | None:
        return self._transaction.patrons.get(patron, self._transaction.database.patrons.get(patron))

    async def of(self, patrons: Collection[str]) -> list[PatronRecord]:
        return [record for patron in patrons if (record := await self.get(patron)) is not None]

    async def keep_newer(self, record: PatronRecord) -> bool:
        stored = await self.get(record.patron)
        if stored is not None and stored.version >= record.version:
            return False
        self._transaction.patrons[record.patron] = record
        return True

    async def followed_stream(self, stream: str) -> str | None:
        return self._transaction.database.patron_feed.get(stream)

    async def follow(self, stream: str, created: str) -> None:
        self._transaction.database.patron_feed[stream] = created  # at once, not staged: the tests commit it

    async def forget_all(self) -> int:
        forgotten = len(self._transaction.database.patrons)
        self._transaction.database.patrons.clear()
        self._transaction.patrons.clear()
        return forgotten
