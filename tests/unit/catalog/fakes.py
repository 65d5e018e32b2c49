"""An in-memory catalog behind the same ports as Postgres (cosmicpython's FakeUnitOfWork), for use-case tests.

State is kept as snapshots, like rows: a repository hands out fresh aggregates and stores copies of what it
is given, and a unit of work works on its own copy of the state that only `commit()` makes visible. A save
is refused, as by Postgres, when another unit of work committed a newer version of the row meanwhile. The
commit also drains the recorded events into `published` (the outbox). Locks are recorded, not enforced.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Self

from services.catalog.app.queries import Condition
from services.catalog.domain.books import Book, BookNotFound, ImportBatch
from services.catalog.domain.copies import BarcodeNotFound, Copy, CopyNotFound
from services.catalog.domain.copy_values import CopyStatus
from services.catalog.domain.item_types import ANY_ITEM_TYPE, ItemType, ItemTypeFilter
from services.support.runtime.branches import same_branch
from services.support.runtime.conflicts import CONCURRENT_UPDATE
from services.support.runtime.errors import AlreadyExists, Conflict, InvalidArgument
from services.support.runtime.events import DomainEvent
from tests.unit.catalog.fake_item_types import FakeItemTypeRepository, not_for_loan_codes, seeded_item_types
from tests.unit.catalog.fake_search import FakeBookSearch


@dataclass
class CatalogState:
    """What the fake database holds; the tests read it to see what was committed."""

    books: dict[uuid.UUID, Book] = field(default_factory=dict)
    copies: dict[uuid.UUID, Copy] = field(default_factory=dict)
    requests: dict[uuid.UUID, tuple[str, str]] = field(default_factory=dict)
    published: list[DomainEvent] = field(default_factory=list)
    commits: int = 0
    item_types: dict[str, ItemType] = field(default_factory=seeded_item_types)

    def fork(self) -> CatalogState:
        return CatalogState(dict(self.books), dict(self.copies), dict(self.requests), item_types=dict(self.item_types))


def _row(aggregate: Any) -> Any:
    """A stored snapshot: no events, not shared with the caller."""
    return dataclasses.replace(aggregate, events=[])


class _Tracking:
    def __init__(self, state: CatalogState, committed: CatalogState) -> None:
        self.state = state
        self._committed = committed
        self.seen: list[Any] = []

    def _track(self, aggregate: Any) -> Any:
        self.seen.append(aggregate)
        return aggregate

    def _check_version(self, aggregate: Book | Copy, rows: Callable[[CatalogState], dict[uuid.UUID, Any]]) -> None:
        """The row must still have the version the aggregate was read with (its change bumped it by one)."""
        versions = [
            table[aggregate.id].version for table in (rows(self.state), rows(self._committed)) if aggregate.id in table
        ]
        if not versions or max(versions) != aggregate.version - 1:
            raise Conflict(f"{aggregate.name} was changed concurrently", reason=CONCURRENT_UPDATE)


class FakeBookRepository(_Tracking):
    async def add(self, book: Book) -> None:
        await self.add_many([book])

    async def add_many(self, books: Sequence[Book]) -> None:
        for book in books:
            self._refuse_taken_isbn(book)
            self.state.books[book.id] = _row(book)
            self._track(book)

    async def get(self, book_id: uuid.UUID, *, for_update: bool = False) -> Book:
        if book_id not in self.state.books:
            raise BookNotFound(book_id)
        return self._track(self._counted(self.state.books[book_id]))

    async def availability(self, book_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, int]:
        return {i: self._counted(self.state.books[i]).available_copies for i in book_ids if i in self.state.books}

    async def by_isbns(self, isbns: Sequence[str]) -> dict[str, Book]:
        found = [b for b in self.state.books.values() if b.details.isbn and b.details.isbn in isbns]
        return {b.details.isbn: self._track(self._counted(b)) for b in found}

    async def save(self, book: Book) -> None:
        self._check_version(book, lambda state: state.books)
        self._refuse_taken_isbn(book)
        self.state.books[book.id] = _row(book)

    async def remove(self, book: Book) -> None:
        del self.state.books[book.id]
        for copy in [c for c in self.state.copies.values() if c.book_id == book.id]:
            del self.state.copies[copy.id]

    async def copy_statuses(self, book_id: uuid.UUID) -> list[CopyStatus]:
        held = CopyStatus.ON_HOLD_SHELF  # a copy in transit for a hold counts as set aside, as in the SQL one
        return [held if c.set_aside else c.status for c in self.state.copies.values() if c.book_id == book_id]

    def record(self, batch: ImportBatch) -> None:
        self._track(batch)

    def counted_books(self) -> list[Book]:
        """Every book of this unit of work's state, with its copy counts."""
        return [self._counted(b) for b in self.state.books.values()]

    def _counted(self, stored: Book) -> Book:
        mine = [c for c in self.state.copies.values() if c.book_id == stored.id]
        total = sum(1 for c in mine if c.status != CopyStatus.WITHDRAWN)
        on_shelf = [c for c in mine if c.status == CopyStatus.AVAILABLE]
        reference = sum(1 for c in on_shelf if c.details.item_type in not_for_loan_codes(self.state))
        return dataclasses.replace(
            stored,
            events=[],
            total_copies=total,
            available_copies=len(on_shelf) - reference,
            reference_copies=reference,
        )

    def _refuse_taken_isbn(self, book: Book) -> None:
        isbn = book.details.isbn
        if isbn and any(b.details.isbn == isbn and b.id != book.id for b in self.state.books.values()):
            raise AlreadyExists(f"a book with ISBN {isbn} already exists", reason="ISBN_TAKEN")


class FakeCopyRepository(_Tracking):
    writes = 0
    """Changes written by `save_settled` (a single-write block's write)."""
    counts = 0
    """Counts of a listing's copies made, by every instance (read the difference)."""

    def _read(self, stored: Copy) -> Copy:
        """A copy as the SQL reads bring it: with whether its item type is not for loan."""
        reference = stored.details.item_type in not_for_loan_codes(self.state)
        return dataclasses.replace(stored, events=[], not_for_loan=reference)

    async def add(self, copy: Copy) -> None:
        await self.add_many([copy])

    async def add_many(self, copies: Sequence[Copy]) -> None:
        for copy in copies:
            self._refuse_taken_barcode(copy)
            self.state.copies[copy.id] = _row(copy)
            self._track(copy)

    async def get(self, book_id: uuid.UUID, copy_id: uuid.UUID, *, for_update: bool = False) -> Copy:
        stored = self.state.copies.get(copy_id)
        if stored is None or stored.book_id != book_id:
            raise CopyNotFound(book_id, copy_id)
        return self._track(self._read(stored))

    async def by_barcode(self, barcode: str) -> Copy:
        return self._track(
            _row(self._first(lambda c: same_barcode(c.details.barcode, barcode), BarcodeNotFound(barcode)))
        )

    async def holding(self, *, loan: str = "", hold: str = "") -> Copy | None:
        found = [c for c in self.state.copies.values() if (c.current_loan == loan if loan else c.current_hold == hold)]
        return self._track(self._read(found[0])) if found else None

    async def to_check_out(self, *, loan: str, barcode: str) -> tuple[Copy | None, Copy | None, int]:
        on_loan = await self.holding(loan=loan)
        with_barcode = [c for c in self.state.copies.values() if same_barcode(c.details.barcode, barcode)]
        if not with_barcode:
            return on_loan, None, 0
        return on_loan, self._track(self._read(with_barcode[0])), self._available_others(with_barcode[0])

    async def to_check_in(
        self, book_id: uuid.UUID, copy_id: uuid.UUID, *, hold: str
    ) -> tuple[Copy, uuid.UUID | None, int]:
        copy = await self.get(book_id, copy_id)
        held = [c.id for c in self.state.copies.values() if hold and c.current_hold == hold]
        return copy, held[0] if held else None, self._available_others(copy)

    def _available_others(self, copy: Copy) -> int:
        others = [c for c in self.state.copies.values() if c.book_id == copy.book_id and c.id != copy.id]
        return sum(1 for c in others if self._read(c).lendable_on_shelf)

    async def first_available(
        self,
        book_id: uuid.UUID,
        *,
        prefer_branch: str = "",
        item_types: ItemTypeFilter = ANY_ITEM_TYPE,
        at_branches: Sequence[str] = (),
    ) -> Copy | None:
        available = [
            c
            for c in self.state.copies.values()
            if c.book_id == book_id
            and c.status == "AVAILABLE"
            and item_types.admits(c.details.item_type)
            and self._read(c).lendable_on_shelf
            and (
                not at_branches
                or not c.details.branch.strip()
                or any(same_branch(c.details.branch, code) for code in at_branches)
            )
        ]
        available.sort(key=lambda c: (not same_branch(c.details.branch, prefer_branch), c.details.barcode))
        return self._track(self._read(available[0])) if available else None

    async def save(self, copy: Copy) -> int:
        self._check_version(copy, lambda state: state.copies)
        self._refuse_taken_barcode(copy)
        self.state.copies[copy.id] = _row(copy)
        mine = [self._read(c) for c in self.state.copies.values() if c.book_id == copy.book_id]
        return sum(1 for c in mine if c.lendable_on_shelf)

    async def save_settled(self, copy: Copy) -> None:
        self.writes += 1
        await self.save(copy)

    async def remove(self, copy: Copy) -> None:
        del self.state.copies[copy.id]

    async def book_exists(self, book_id: uuid.UUID) -> bool:
        return book_id in self.state.books

    async def list(
        self, *, book_id: uuid.UUID | None, conditions: Sequence[Condition], after: str | None, limit: int
    ) -> list[Copy]:
        found = sorted(self._matching(book_id, conditions), key=lambda c: c.details.barcode)
        return [_row(c) for c in found if after is None or c.details.barcode > after][: limit + 1]

    async def count(self, *, book_id: uuid.UUID | None, conditions: Sequence[Condition]) -> int:
        FakeCopyRepository.counts += 1
        return len(self._matching(book_id, conditions))

    def _matching(self, book_id: uuid.UUID | None, conditions: Sequence[Condition]) -> list[Copy]:
        def value(copy: Copy, name: str) -> str:
            if name == "status":
                return copy.status.value
            return str(getattr(copy, name) if name == "sent_home_from" else getattr(copy.details, name))

        def matches(copy: Copy, k: Condition) -> bool:
            found, wanted = value(copy, k.field), str(k.value)
            branch = k.field in ("branch", "sent_home_from")
            same = same_branch(found, wanted) if branch else found == wanted  # as the SQL compares
            return same == (k.op == "=")

        return [
            c
            for c in self.state.copies.values()
            if (book_id is None or c.book_id == book_id) and all(matches(c, k) for k in conditions)
        ]

    def _first(self, predicate: Callable[[Copy], bool], missing: Exception) -> Copy:
        for copy in self.state.copies.values():
            if predicate(copy):
                return copy
        raise missing

    def _refuse_taken_barcode(self, copy: Copy) -> None:
        barcode = copy.details.barcode
        if any(same_barcode(c.details.barcode, barcode) and c.id != copy.id for c in self.state.copies.values()):
            raise AlreadyExists(f"a copy with barcode {barcode} already exists", reason="BARCODE_TAKEN")


def same_barcode(a: str, b: str) -> bool:
    """As the database compares barcodes (its unique index and look-ups are on lower(barcode))."""
    return a.lower() == b.lower()


class FakeRequestLog:
    def __init__(self, state: CatalogState) -> None:
        self.state = state

    async def recall(self, request_id: uuid.UUID | None, operation: str) -> str | None:
        if request_id is None or request_id not in self.state.requests:
            return None
        seen_operation, resource = self.state.requests[request_id]
        if seen_operation != operation:
            raise InvalidArgument.field("request_id", f"was already used for {seen_operation}")
        return resource

    async def remember(self, request_id: uuid.UUID | None, operation: str, resource: str) -> None:
        if request_id is not None:
            self.state.requests[request_id] = (operation, resource)


class FakeCatalogUnitOfWork:
    """One transaction over a CatalogState; build one per use case call, like the servicer does."""

    def __init__(self, state: CatalogState) -> None:
        self.committed_state = state
        self.locks: list[str] = []
        self.committed = False
        self.single = False

    def single_write(self) -> Self:
        self.single = True  # the block takes no lock and writes one change, with its events
        return self

    async def __aenter__(self) -> Self:
        self._working = self.committed_state.fork()
        self.books = FakeBookRepository(self._working, self.committed_state)
        self.copies = FakeCopyRepository(self._working, self.committed_state)
        self.search = FakeBookSearch(self.books.counted_books)
        self.requests = FakeRequestLog(self._working)
        self.item_types = FakeItemTypeRepository(self._working, self.committed_state)
        self._flushed: list[DomainEvent] = []
        return self

    async def __aexit__(self, *exc: object) -> None:
        return None  # what was not committed is dropped with the working copy

    async def commit(self) -> None:
        if self.single:
            assert not self.locks and self.copies.writes <= 1, "a single-write block takes no lock, writes once"
        state, working = self.committed_state, self._working.fork()
        state.books, state.copies, state.requests = working.books, working.copies, working.requests
        state.item_types = working.item_types
        await self.flush_events()
        state.published.extend(self._flushed)
        state.commits += 1
        self.committed = True

    async def flush_events(self) -> None:
        """Kept with the transaction: published only if it commits."""
        for repository in (self.books, self.copies, self.item_types):
            for aggregate in repository.seen:
                self._flushed.extend(aggregate.events)
                aggregate.events.clear()
            repository.seen.clear()

    async def lock(self, key: str) -> None:
        assert not self.single, "a single-write block takes no lock"
        self.locks.append(key)


@dataclass
class FakeCatalog:
    """The state and a factory of units of work over it (what main.py builds with Postgres)."""

    state: CatalogState = field(default_factory=CatalogState)
    units: list[FakeCatalogUnitOfWork] = field(default_factory=list)

    def __call__(self) -> FakeCatalogUnitOfWork:
        uow = FakeCatalogUnitOfWork(self.state)
        self.units.append(uow)
        return uow

    def events(self, kind: type[DomainEvent] | None = None) -> list[DomainEvent]:
        return [e for e in self.state.published if kind is None or isinstance(e, kind)]
