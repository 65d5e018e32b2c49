"""The catalog's repositories in memory (books, copies, the request log) over the state of one unit of work
of the fake catalog (tests/unit/catalog/fakes.py): they hand out fresh aggregates, store copies of what they
are given, and refuse a save whose row another unit of work changed meanwhile, as Postgres does."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from services.catalog.app.queries import Condition
from services.catalog.domain.books import Book, BookNotFound, ImportBatch
from services.catalog.domain.copies import BarcodeNotFound, Copy, CopyNotFound
from services.catalog.domain.copy_values import CopyStatus
from services.catalog.domain.item_types import ANY_ITEM_TYPE, ItemTypeFilter
from services.support.runtime.branches import same_branch
from services.support.runtime.conflicts import CONCURRENT_UPDATE
from services.support.runtime.errors import AlreadyExists, Conflict, InvalidArgument
from tests.unit.catalog.fake_item_types import not_for_loan_codes

if TYPE_CHECKING:
    from tests.unit.catalog.fakes import CatalogState


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
