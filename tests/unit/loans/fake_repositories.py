"""In-memory repositories over one fake transaction (fakes.Transaction): the app ports, as data/ keeps them
(the holds one in fake_hold_repository.py, the rules and fines ones in fake_rules_and_fines.py)."""

from __future__ import annotations

import copy
import uuid
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, TypeVar

from services.loans.app.list_requests import LoanFilter, NewestFirst, PageRequest
from services.loans.app.pages import newest_first_cursor
from services.loans.domain.borrowing import Standing
from services.loans.domain.fines import FineKind, FineStatus
from services.loans.domain.hold_record import HoldStatus
from services.loans.domain.loan_record import LOAN, VISIBLE, LoanStatus
from services.loans.domain.loans import Loan, LoanNotFound
from services.loans.domain.money import ZERO
from services.support.runtime.errors import Conflict, FailedPrecondition, InvalidArgument
from services.support.runtime.idempotency import current_attempt
from services.support.runtime.paging import Page, page_from_rows

if TYPE_CHECKING:
    from .fakes import Transaction

T = TypeVar("T")


def newest_first(rows: Iterable[T], key: Callable[[T], NewestFirst], page: PageRequest[NewestFirst]) -> Page[T]:
    """A newest-first page cut as the SQL repositories cut it (keyset on (created_at, id))."""
    ordered = sorted(rows, key=key, reverse=True)
    remaining = [row for row in ordered if page.after is None or key(row) < page.after]
    return page_from_rows(
        copy.deepcopy(remaining[: page.size + 1]),
        limit=page.size,
        query=page.query,
        cursor_of=lambda row: newest_first_cursor(*key(row)),
        total_size=len(ordered),
    )


class FakeLoanRepository:
    def __init__(self, transaction: Transaction) -> None:
        self._tx = transaction

    def _rows(self) -> list[Loan]:
        return list(self._tx.rows("loans").values())

    async def add(self, loan: Loan) -> None:
        if loan.request_id is not None and any(
            row.request_id == loan.request_id and row.status != LoanStatus.FAILED for row in self._rows()
        ):
            raise Conflict("an issue with this request_id is in progress; retry it", reason="REQUEST_IN_PROGRESS")
        self._tx.stage("loans", loan)

    async def forget(self, loan_id: uuid.UUID) -> None:
        row = self._tx.rows("loans").get(loan_id)
        if row is not None and row.status == LoanStatus.PENDING:
            self._tx.deleted.add(loan_id)

    def announce(self, loan: Loan) -> None:
        self._tx.seen["loans"].append(loan)  # published at commit, stored nowhere

    async def get(self, loan_id: uuid.UUID, *, for_update: bool = False) -> Loan:
        row = self._tx.rows("loans").get(loan_id)
        if row is None:
            raise LoanNotFound(LOAN.format(loan_id))
        return self._tx.hand_out("loans", row)

    async def by_request(self, request_id: uuid.UUID) -> Loan | None:
        found = [row for row in self._rows() if row.request_id == request_id and row.status != LoanStatus.FAILED]
        return self._tx.hand_out("loans", found[0]) if found else None

    async def to_return(
        self, *, loan_id: uuid.UUID | None = None, barcode: str = "", now: datetime
    ) -> tuple[Loan, uuid.UUID | None]:
        if loan_id is not None:
            loan = await self.get(loan_id)
        else:
            found = [
                row
                for row in self._rows()
                if row.barcode.lower() == barcode.lower() and row.status == LoanStatus.ACTIVE
            ]
            if not found:
                raise LoanNotFound(f"loans/-?barcode={barcode}")
            loan = self._tx.hand_out("loans", found[0])
        seq = self._tx.database.hold_seq
        records = {**self._tx.database.patrons, **self._tx.patrons}
        queue = [
            h
            for h in self._tx.rows("holds").values()
            if h.book == loan.book
            and h.status == HoldStatus.WAITING
            and (h.patron not in records or records[h.patron].lending_eligibility(now) is not None)
        ]
        return loan, min(queue, key=lambda hold: seq[hold.id]).id if queue else None

    async def active_on_copy(self, copy: str) -> Loan | None:
        found = [row for row in self._rows() if row.copy == copy and row.status == LoanStatus.ACTIVE]
        return self._tx.hand_out("loans", found[0]) if found else None

    async def returns_begun(self, *, before: datetime, limit: int = 100) -> list[Loan]:
        begun = [
            row
            for row in self._rows()
            if row.status == LoanStatus.ACTIVE and row.return_started_at is not None and row.return_started_at < before
        ]
        begun.sort(key=lambda row: row.return_started_at or before)
        return [self._tx.hand_out("loans", row) for row in begun[:limit]]

    async def save(self, loan: Loan) -> None:
        self._tx.check_version("loans", loan, seen=loan.version)
        if loan.status == LoanStatus.ACTIVE and any(
            row.id != loan.id and row.status == LoanStatus.ACTIVE and row.copy == loan.copy for row in self._rows()
        ):
            raise FailedPrecondition(f"{loan.copy} is already on an active loan", reason="COPY_ALREADY_ON_LOAN")
        loan.version += 1
        self._tx.stage("loans", loan)

    async def close_unless_fined(self, loan: Loan) -> bool:
        fines = self._tx.rows("fines").values()
        fined = any(fine.loan == loan.name and fine.kind == FineKind.OVERDUE for fine in fines)
        stored = self._tx.rows("loans").get(loan.id)
        if fined or stored is None or stored.version != loan.version:
            return False
        loan.version += 1
        self._tx.stage("loans", loan)
        self._tx.carried = True  # a single write's write: it carries the events and the request's record
        return True

    async def has_active(self, patron: str, book: str) -> bool:
        return any(r.patron == patron and r.book == book and r.status == LoanStatus.ACTIVE for r in self._rows())

    async def lock_patron(self, patron: str) -> None:
        """Nothing to wait for (unit tests run one use case at a time); noted, for the single-write check."""
        self._tx.locked.add(patron)

    async def standing(self, patron: str, *, item_type: str, now: datetime, besides: Sequence[str] = ()) -> Standing:
        active = [row for row in self._rows() if row.patron == patron and row.status == LoanStatus.ACTIVE]
        in_scope = [
            row for row in active if row.item_type == item_type or (item_type == "*" and row.item_type not in besides)
        ]
        overdue = [row for row in active if row.due_at is not None and row.due_at < now]
        fines = self._tx.rows("fines").values()
        owing = [fine for fine in fines if fine.patron == patron and fine.status == FineStatus.OUTSTANDING]
        owed = sum((fine.outstanding for fine in owing), ZERO)
        held = [h for h in self._tx.rows("holds").values() if h.patron == patron and h.is_active]
        ready = [h for h in held if h.set_aside]
        return Standing(len(in_scope), len(overdue), Decimal(owed), len(ready), len(held))

    async def list_newest_first(
        self, where: LoanFilter, *, now: datetime, page: PageRequest[NewestFirst]
    ) -> Page[Loan]:
        def matches(loan: Loan) -> bool:
            overdue = loan.status == LoanStatus.ACTIVE and loan.due_at is not None and loan.due_at < now
            return (
                loan.status in VISIBLE
                and (not where.patron or loan.patron == where.patron)
                and (where.status is None or loan.status == where.status)
                and (not where.overdue_only or overdue)
                and (not where.book or loan.book == where.book)
            )

        return newest_first(filter(matches, self._rows()), lambda loan: (loan.created_at, loan.id), page)

    async def unsettled(self, *, pending_before: datetime, limit: int = 100) -> list[Loan]:
        rows = [
            row
            for row in self._rows()
            if (row.status == LoanStatus.PENDING and row.created_at < pending_before)
            or (row.status == LoanStatus.FAILED and not row.compensated)
        ]
        return [self._tx.hand_out("loans", row) for row in sorted(rows, key=lambda row: row.created_at)[:limit]]

    def _active_not_being_returned(self) -> list[Loan]:
        return [row for row in self._rows() if row.status == LoanStatus.ACTIVE and row.return_started_at is None]

    async def active_due_before(self, moment: datetime, *, limit: int = 500) -> list[Loan]:
        rows = [r for r in self._active_not_being_returned() if r.due_at is not None and r.due_at < moment]
        return [self._tx.hand_out("loans", row) for row in sorted(rows, key=lambda row: row.due_at or moment)[:limit]]

    async def needing_reminder(self, now: datetime, *, limit: int = 500) -> list[Loan]:
        rows = [r for r in self._active_not_being_returned() if r.next_reminder_at is not None
                and r.next_reminder_at <= now]  # fmt: skip
        return [
            self._tx.hand_out("loans", row) for row in sorted(rows, key=lambda r: r.next_reminder_at or now)[:limit]
        ]

    async def statuses(self, names: Sequence[str]) -> dict[str, tuple[LoanStatus, str, datetime]]:
        ids = {uuid.UUID(name.removeprefix("loans/")) for name in names if name.startswith("loans/")}
        return {row.name: (row.status, row.copy, row.created_at) for row in self._rows() if row.id in ids}

    async def active_copies(self) -> dict[str, str]:
        return {row.copy: row.name for row in self._rows() if row.status == LoanStatus.ACTIVE}

    async def moved_at(self, names: Sequence[str]) -> dict[str, datetime]:
        wanted = set(names)
        return {
            row.name: max(at for at in (row.created_at, row.issued_at, row.return_started_at, row.returned_at) if at)
            for row in self._rows()
            if row.name in wanted
        }


class FakeRequestLog:
    def __init__(self, transaction: Transaction) -> None:
        self._tx = transaction

    def _known(self, request_id: uuid.UUID) -> tuple[str, str] | None:
        return self._tx.requests.get(request_id) or self._tx.database.requests.get(request_id)

    async def recall(self, request_id: uuid.UUID | None, operation: str) -> str | None:
        known = self._known(request_id) if request_id is not None else None
        if known is None:
            return None
        if known[0] != operation:
            raise InvalidArgument.field("request_id", f"was already used for {known[0]}")
        return known[1]

    def is_first_attempt(self, request_id: uuid.UUID | None) -> bool:
        """As the runtime tells it (a test sets `current_attempt` as the runtime's claim would)."""
        attempt = current_attempt.get()
        return request_id is not None and attempt is not None and attempt.request_id == request_id and attempt.first

    async def remember(self, request_id: uuid.UUID | None, operation: str, resource: str) -> None:
        if request_id is None:
            return
        assert not self._tx.carried, "a single write's request is recorded before its write, which carries it"
        if self._known(request_id) is not None:
            raise Conflict(
                "a request with this request_id is already being processed; retry it", reason="REQUEST_IN_PROGRESS"
            )
        self._tx.requests[request_id] = (operation, resource)
