"""What the loans use cases need from the rest of the system, declared here and implemented elsewhere:
the peers (peers.py over the mesh; fakes in tests) and the unit of work (repository.py)."""

from __future__ import annotations

from types import TracebackType
from typing import Protocol, Self

from services.loans.borrowing import CopyInfo, Eligibility
from services.loans.fine_store import SqlFineRepository
from services.loans.hold_store import SqlHoldRepository
from services.loans.repository import SqlLoanRepository
from services.loans.rule_store import SqlRuleRepository
from services.support.runtime.idempotency import RequestLog


class Users(Protocol):
    async def eligibility(self, patron: str) -> Eligibility:
        """NotFound for an unknown patron; DependencyUnavailable when users cannot be reached."""
        ...


class Catalog(Protocol):
    """The catalog's copy operations. Every mutation is idempotent per (loan or hold, request_id)."""

    async def book_title(self, book: str) -> str: ...
    async def lookup_copy(self, barcode: str) -> CopyInfo: ...
    async def get_copy(self, name: str) -> CopyInfo: ...
    async def copies_of(self, book: str) -> list[CopyInfo]: ...
    async def copies_on_loan(self) -> list[CopyInfo]: ...
    async def check_out(self, *, selector: tuple[str, str], loan: str, hold: str, request_id: str) -> CopyInfo: ...
    async def check_in(self, *, copy: str, loan: str, hold: str, request_id: str) -> CopyInfo: ...
    async def reserve(self, *, book: str, hold: str, branch: str, request_id: str) -> CopyInfo: ...
    async def release(self, *, copy: str, hold: str, request_id: str) -> CopyInfo: ...


class LoansUnitOfWork(Protocol):
    loans: SqlLoanRepository
    rules: SqlRuleRepository
    fines: SqlFineRepository
    holds: SqlHoldRepository
    requests: RequestLog

    async def __aenter__(self) -> Self: ...
    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...
    async def commit(self) -> None: ...
