"""What a list asks the repositories for (the List RPCs, through the use cases): one page (`PageRequest`, resumed
after a cursor such as `NewestFirst`) and which loans, fines or holds it shows (`LoanFilter`, `FineFilter`,
`HoldFilter`). The repositories that answer them are in ports.py.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Generic, TypeVar

from services.loans.app.hold_queries import HoldConditions
from services.loans.domain.fines import FineStatus
from services.loans.domain.hold_record import HoldStatus
from services.loans.domain.loan_record import LoanStatus

CursorT = TypeVar("CursorT")
NewestFirst = tuple[datetime, uuid.UUID]
"""Where a newest-first list resumes: strictly after this (created_at, id)."""


@dataclass(frozen=True, slots=True)
class PageRequest(Generic[CursorT]):
    """One page of a list: at most `size` items after `after` (None: from the start); the next page's
    token is bound to `query` (the list's fingerprint)."""

    size: int
    after: CursorT | None
    query: str


@dataclass(frozen=True, slots=True)
class LoanFilter:
    """Which loans a list shows (only those clients may see: ACTIVE or RETURNED); every condition given holds."""

    patron: str = ""
    status: LoanStatus | None = None
    overdue_only: bool = False
    book: str = ""


@dataclass(frozen=True, slots=True)
class FineFilter:
    patron: str = ""
    status: FineStatus | None = None


@dataclass(frozen=True, slots=True)
class HoldFilter:
    """Which holds a list shows, in which order; every condition given holds (branches: see hold_queries)."""

    patron: str = ""
    status: HoldStatus | None = None
    book: str = ""
    where: HoldConditions = field(default_factory=HoldConditions)
    by_deadline: bool = False
