"""What the loans use cases need from the rest of the system, in domain terms: no SQL, gRPC or NATS type here.

The data layer implements these (data/: the repositories and the unit of work over Postgres, the peers over
the mesh); unit tests use in-memory ones (tests/unit/loans/fakes.py). The other services the use cases call
(users, catalog) are in app/peers.py; what a list asks for (pages, filters) in app/list_requests.py; the
repositories of the lending policy (rules, closed days) in app/policy_ports.py.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from datetime import datetime
from decimal import Decimal
from types import TracebackType
from typing import Protocol, Self

from services.loans.app.hold_queries import HoldCursor
from services.loans.app.list_requests import FineFilter, HoldFilter, LoanFilter, NewestFirst, PageRequest
from services.loans.app.policy_ports import ClosedDayRepository, RuleRepository
from services.loans.domain.borrowing import Standing
from services.loans.domain.branches import LibraryBranches
from services.loans.domain.fines import Fine, FineEntry
from services.loans.domain.hold_record import HoldStatus
from services.loans.domain.holds import Hold
from services.loans.domain.loan_record import LoanStatus
from services.loans.domain.loans import Loan
from services.loans.domain.patrons import PatronRecord
from services.support.runtime.paging import Page


class LoanRepository(Protocol):
    async def add(self, loan: Loan) -> None:
        """Conflict (REQUEST_IN_PROGRESS) when a live loan already carries the loan's request_id."""

    async def get(self, loan_id: uuid.UUID, *, for_update: bool = False) -> Loan:
        """Raises LoanNotFound; `for_update` locks the loan's row until commit."""

    async def forget(self, loan_id: uuid.UUID) -> None:
        """Deletes a PENDING loan the catalog lent nothing for (its copy does not exist)."""

    def announce(self, loan: Loan) -> None:
        """Publishes at commit the events `loan` recorded, storing nothing of it: a loan with no row here (one
        whose record was lost, domain/unrecorded.py)."""

    async def by_request(self, request_id: uuid.UUID) -> Loan | None:
        """The live (not FAILED) loan a request_id created."""

    async def active_on_copy(self, copy: str) -> Loan | None:
        """The ACTIVE loan of a copy, locked until commit (None when the copy is on no active loan)."""

    async def to_return(
        self, *, loan_id: uuid.UUID | None = None, barcode: str = "", now: datetime
    ) -> tuple[Loan, uuid.UUID | None]:
        """The loan a return names (by id, else the ACTIVE loan of the barcode; raises LoanNotFound) and the id
        of the hold at the head of its book's queue (None when nobody waits), in one read. A hold whose patron
        may not borrow at `now` by the projection of accounts is passed over: the next one is the head."""

    async def returns_begun(self, *, before: datetime, limit: int = 100) -> list[Loan]:
        """ACTIVE loans whose return was begun before `before` and not finished, oldest first."""

    async def save(self, loan: Loan) -> None:
        """Writes back a changed loan unless someone else changed it since it was read (Conflict,
        CONCURRENT_UPDATE); FailedPrecondition (COPY_ALREADY_ON_LOAN) for a second ACTIVE loan of a copy."""

    async def close_unless_fined(self, loan: Loan) -> bool:
        """Writes back a loan just returned, unless an overdue fine is recorded for it (its close brings the
        fine up to date, in a transaction) or someone else changed it since it was read; whether it wrote it.
        In a single-write block, its write: it carries the loan's events and the request's record."""

    async def has_active(self, patron: str, book: str) -> bool: ...

    async def lock_patron(self, patron: str) -> None:
        """Serialises the limit checks of one patron's concurrent issues and holds (held until commit)."""

    async def standing(self, patron: str, *, item_type: str, now: datetime, besides: Sequence[str] = ()) -> Standing:
        """Active loans (of `item_type`, or for "*" of every type but those in `besides`), overdue loans,
        fines still owed and holds with a copy set aside (READY or IN_TRANSIT)."""

    async def list_newest_first(
        self, where: LoanFilter, *, now: datetime, page: PageRequest[NewestFirst]
    ) -> Page[Loan]:
        """With the number of all matching loans."""

    async def unsettled(self, *, pending_before: datetime, limit: int = 100) -> list[Loan]:
        """Sagas to repair, locked (skipping those another process holds): PENDING since before
        `pending_before`, or FAILED with the copy maybe still out."""

    async def active_due_before(self, moment: datetime, *, limit: int = 500) -> list[Loan]:
        """ACTIVE loans due before `moment` and not being returned, locked (skipping those another process holds)."""

    async def needing_reminder(self, now: datetime, *, limit: int = 500) -> list[Loan]:
        """ACTIVE loans not being returned whose `next_reminder_at` has come, soonest first, locked (skipping
        those another process holds)."""

    async def statuses(self, names: Sequence[str]) -> dict[str, tuple[LoanStatus, str, datetime]]:
        """name -> (status, copy, created_at) for the loans among `names` that exist."""

    async def active_copies(self) -> dict[str, str]:
        """copy -> loan name, for every ACTIVE loan."""

    async def moved_at(self, names: Sequence[str]) -> dict[str, datetime]:
        """name -> when the loan last moved (made, issued, its end begun, ended), for those among `names`."""


class FineRepository(Protocol):
    async def add(self, fine: Fine) -> None:
        """Stores the fine and its new audit entries."""

    async def get(self, fine_id: uuid.UUID, *, for_update: bool = False) -> Fine:
        """Raises FineNotFound; `for_update` locks the fine until commit (a change takes turns with the
        overdue accrual of a return or the reconciler instead of losing the race to it)."""

    async def overdue_fine_of(self, loan: str) -> Fine | None:
        """The loan's overdue fine, locked until commit."""

    async def overdue_fines_of(self, loans: Sequence[str]) -> dict[str, Fine]:
        """The overdue fines of these loans (those that have one), by loan, locked until commit: one read for
        the reconciler's every overdue loan."""

    async def save(self, fine: Fine) -> None:
        """Writes back a changed fine and its new audit entries (Conflict, CONCURRENT_UPDATE, on a lost race)."""

    async def entries(self, fine_id: uuid.UUID) -> list[FineEntry]:
        """The audit trail, oldest first."""

    async def list_newest_first(
        self, where: FineFilter, *, page: PageRequest[NewestFirst]
    ) -> tuple[Page[Fine], Decimal]:
        """And the sum still owed over every matching fine (not just this page)."""

    async def hold_charges(self, patron: str, *, until: datetime) -> None:
        """No charge for the patron until then (an account being closed; the latest hold kept)."""

    async def charges_held_until(self, patron: str) -> datetime | None:
        """The end of the latest hold on the patron's charges (None: never held)."""


class HoldRepository(Protocol):
    async def add(self, hold: Hold) -> None:
        """AlreadyExists (HOLD_EXISTS) when the patron already holds the book."""

    async def get(self, hold_id: uuid.UUID, *, for_update: bool = False) -> Hold:
        """The hold with its queue position; raises HoldNotFound; `for_update` locks its row until commit (a
        step on the catalog for the hold as read, ReportHoldCopyMissing, takes turns with a cancel)."""

    async def save(self, hold: Hold) -> None:
        """Writes back a changed hold (Conflict, CONCURRENT_UPDATE, on a lost race)."""

    async def active_for(self, patron: str, book: str) -> Hold | None:
        """The patron's active (WAITING, IN_TRANSIT or READY) hold on the book."""

    async def count_active(self, patron: str) -> int: ...

    async def active_of(self, patron: str) -> list[Hold]:
        """The patron's active (WAITING, IN_TRANSIT and READY) holds, oldest first."""

    async def others_waiting(self, book: str, patron: str) -> bool:
        """Whether a patron other than `patron` waits for the book."""

    async def needing_attention(self, now: datetime, *, limit: int = 200) -> list[Hold]:
        """READY holds past their pickup time, and ended holds whose copy is still on the shelf; locked
        (skipping those another process holds)."""

    async def waiting(self, book: str, *, limit: int, after: uuid.UUID | None = None) -> list[Hold]:
        """The book's WAITING holds in queue order, the first `limit` of them behind the hold `after` (None:
        from the head; a page, the next starts after its last)."""

    async def books_with_waiting(self, *, after: str = "", limit: int) -> list[str]:
        """Books with a queue (a copy that became available may serve it), by name: the first `limit` after
        `after` (a page; the next starts after its last)."""

    async def list_in_queue_order(self, where: HoldFilter, *, page: PageRequest[HoldCursor]) -> Page[Hold]:
        """Oldest first, or (`by_deadline`) soonest pickup deadline first, then oldest; the cursor is the last
        hold's (deadline, seq)."""

    async def undescribed(self, *, limit: int) -> list[Hold]:
        """Active holds without a book title, or set aside without their copy's barcode (describing.py)."""

    async def set_aside_with(self, copy: str) -> list[Hold]:
        """The holds the copy named `copy` is set aside for (IN_TRANSIT or READY; one, unless a crash left two)."""

    async def shelf_records(self, names: Sequence[str]) -> dict[str, tuple[uuid.UUID, str]]:
        """name -> (id, the copy it has on the shelf or "") for the holds among `names` that exist."""

    async def set_aside_copies(self) -> dict[str, tuple[str, HoldStatus]]:
        """copy -> (hold name, status), for every hold with a copy set aside (IN_TRANSIT or READY)."""

    async def last_ended_with(self, copy_name: str) -> Hold | None:
        """The ended hold (cancelled, expired, filled) that had `copy_name` last, changed most recently; None."""

    async def active_pickup_branches(self) -> dict[str, int]:
        """pickup branch (as stored) -> how many active holds name it; "" for those that name none."""

    async def sharing_copies(self) -> list[tuple[str, str]]:
        """(hold name, copy) of every hold set aside with a copy another set-aside hold names too: none since
        the unique index of migration 0018, unless kept from before it (`set_aside_copies` shows one of them)."""


class PatronRepository(Protocol):
    """The projection of accounts from the users service's events (domain/patrons.py)."""

    async def get(self, patron: str) -> PatronRecord | None: ...

    async def of(self, patrons: Collection[str]) -> list[PatronRecord]:
        """The records of those of `patrons` that have one."""

    async def keep_newer(self, record: PatronRecord) -> bool:
        """Store the record unless a newer version of the account is stored; whether it was stored."""

    async def followed_stream(self, stream: str) -> str | None:
        """What identifies the stream the records were built from (None: none yet); held until commit."""

    async def follow(self, stream: str, created: str) -> None: ...

    async def forget_all(self) -> int:
        """Drop every record; how many there were."""


class RequestLog(Protocol):
    """Idempotent mutations: what a request_id produced the first time, remembered in the same transaction."""

    async def recall(self, request_id: uuid.UUID | None, operation: str) -> str | None:
        """The resource a previous call with this id produced; InvalidArgument when it was another operation."""

    async def remember(self, request_id: uuid.UUID | None, operation: str, resource: str) -> None:
        """Conflict (REQUEST_IN_PROGRESS) when a concurrent call with the same id committed first. In a
        single-write block, called before its write, which carries it."""

    def is_first_attempt(self, request_id: uuid.UUID | None) -> bool:
        """This call is the first with its request_id (the runtime's claim made the id): nothing can have been
        committed under it, so a use case keeping the id on its own rows need not look for them (no I/O)."""


class LoansUnitOfWork(Protocol):
    """One transaction over the loans database, entered once per transaction (a saga enters it again);
    `commit()` also stores the events the aggregates recorded, in the same transaction."""

    @property
    def loans(self) -> LoanRepository: ...
    @property
    def rules(self) -> RuleRepository: ...
    @property
    def fines(self) -> FineRepository: ...
    @property
    def holds(self) -> HoldRepository: ...
    @property
    def patrons(self) -> PatronRepository: ...
    @property
    def closed_days(self) -> ClosedDayRepository: ...
    @property
    def requests(self) -> RequestLog: ...
    @property
    def branches(self) -> LibraryBranches:
        """The library's branches (settings): every path that serves a queue or receives a copy reads through
        the unit of work, so the one place they are known there (a hold picked up at a branch not listed is
        passed over, finding upgrade F2) is here rather than an argument of each of those paths."""

    def reading(self) -> Self:
        """The next `async with` block only reads (no transaction to begin and roll back), and commits nothing."""

    def single_write(self) -> Self:
        """The next `async with` block makes its change with one write, its last step, which commits by itself
        (no transaction around it): it takes no lock, and records no event and no request (`remember`, called
        before the write) unless that write carries them; `commit()` ends it."""

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...

    async def commit(self) -> None: ...

    async def lead(self, task: str) -> bool:
        """Whether this transaction, of all the loans processes', runs `task` now (until it ends)."""
