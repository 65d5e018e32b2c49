"""What the catalog's use cases need from the outside world, in the domain's own terms.

The data layer implements these Protocols with Postgres (services/catalog/data); the unit tests with dicts
(tests/unit/catalog/fakes.py). Repositories never commit: the unit of work does, with the outbox rows of
the events the aggregates it handed out recorded.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from types import TracebackType
from typing import Protocol, Self

from services.catalog.app.queries import Condition, SortKey
from services.catalog.app.search_queries import Hit, Matches, Ranked, Search
from services.catalog.domain.books import Book, ImportBatch
from services.catalog.domain.copies import Copy
from services.catalog.domain.copy_values import CopyStatus
from services.catalog.domain.item_types import ANY_ITEM_TYPE, ItemType, ItemTypeFilter


class BookRepository(Protocol):
    async def add(self, book: Book) -> None:
        """Raises AlreadyExists (ISBN_TAKEN) when another book has its ISBN."""

    async def add_many(self, books: Sequence[Book]) -> None: ...

    async def get(self, book_id: uuid.UUID, *, for_update: bool = False) -> Book:
        """The book with its copy counts, or BookNotFound; `for_update` locks it until the transaction ends."""

    async def availability(self, book_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, int]:
        """The `available_copies` of each of these books (AVAILABLE, of a type for loan), by id; a book not in
        the catalog is left out."""

    async def by_isbns(self, isbns: Sequence[str]) -> dict[str, Book]:
        """The books with these ISBNs, locked (an import revises them)."""

    async def save(self, book: Book) -> None:
        """Writes a revised book if nobody changed it since it was read (else Conflict, CONCURRENT_UPDATE)."""

    async def remove(self, book: Book) -> None:
        """Deletes the book and its copies."""

    async def copy_statuses(self, book_id: uuid.UUID) -> list[CopyStatus]:
        """The statuses of the book's copies, locked so no check-out slips in before a delete commits; a copy
        IN_TRANSIT for a hold counts as ON_HOLD_SHELF (set aside for a patron all the same)."""

    def record(self, batch: ImportBatch) -> None:
        """Publishes the batch's events with this transaction (an import is not stored, only announced)."""


class CopyRepository(Protocol):
    async def add(self, copy: Copy) -> None:
        """Raises AlreadyExists (BARCODE_TAKEN) when another copy has its barcode."""

    async def add_many(self, copies: Sequence[Copy]) -> None: ...

    async def get(self, book_id: uuid.UUID, copy_id: uuid.UUID, *, for_update: bool = False) -> Copy:
        """The copy, or CopyNotFound; `for_update` locks it until the transaction ends."""

    async def by_barcode(self, barcode: str) -> Copy:
        """The copy with this barcode, or BarcodeNotFound."""

    async def holding(self, *, loan: str = "", hold: str = "") -> Copy | None:
        """The copy out on `loan` (or on the hold shelf for `hold`), locked; None when there is none."""

    async def to_check_out(self, *, loan: str, barcode: str) -> tuple[Copy | None, Copy | None, int]:
        """In one read, nothing locked: the copy out on `loan`, the copy with `barcode` (None for either when
        there is none), and how many other copies of the barcode's book are AVAILABLE."""

    async def to_check_in(
        self, book_id: uuid.UUID, copy_id: uuid.UUID, *, hold: str
    ) -> tuple[Copy, uuid.UUID | None, int]:
        """In one read, nothing locked: the copy (or CopyNotFound), the id of the copy on the hold shelf for
        `hold` (None when none, or no hold), and how many other copies of the copy's book are AVAILABLE."""

    async def first_available(
        self,
        book_id: uuid.UUID,
        *,
        prefer_branch: str = "",
        item_types: ItemTypeFilter = ANY_ITEM_TYPE,
        at_branches: Sequence[str] = (),
    ) -> Copy | None:
        """An AVAILABLE copy of the book and of the item types, locked; copies another transaction is taking are
        skipped. `at_branches`: only a copy at one of these branches (compared as same_branch) or at none; ()
        for any."""

    async def save(self, copy: Copy) -> int:
        """Writes a changed copy if nobody changed it since it was read (else Conflict, CONCURRENT_UPDATE);
        returns how many copies of its book are AVAILABLE after the change."""

    async def save_settled(self, copy: Copy) -> None:
        """Writes a changed copy whose events are complete if nobody changed it since it was read (else
        Conflict, CONCURRENT_UPDATE): a single-write block's write, carrying those events."""

    async def remove(self, copy: Copy) -> None: ...

    async def book_exists(self, book_id: uuid.UUID) -> bool: ...

    async def list(
        self, *, book_id: uuid.UUID | None, conditions: Sequence[Condition], after: str | None, limit: int
    ) -> list[Copy]:
        """Up to `limit` + 1 copies by barcode, after the barcode `after`, of one book (None: of every book)."""

    async def count(self, *, book_id: uuid.UUID | None, conditions: Sequence[Condition]) -> int: ...


class ItemTypeRepository(Protocol):
    async def add(self, kind: ItemType) -> None:
        """Raises ItemTypeExists when the code is taken."""

    async def get(self, code: str, *, for_update: bool = False) -> ItemType:
        """The item type, or ItemTypeNotFound; `for_update` locks it until the transaction ends."""

    async def list(self, *, after: str | None, limit: int) -> list[ItemType]:
        """Up to `limit` + 1 item types by code, after the code `after`."""

    async def count(self) -> int: ...

    async def known(self, codes: Sequence[str]) -> dict[str, bool]:
        """Of these codes, those in the list, each with whether it is not for loan."""

    async def copies_of(self, code: str) -> int:
        """How many copies have this item type."""

    async def move_copies(self, code: str, to: str, *, now: datetime) -> int:
        """Gives every copy of type `code` the type `to` (which exists), as a change of each; how many moved."""

    async def save(self, kind: ItemType) -> None:
        """Writes a revised type if nobody changed it since it was read (else Conflict, CONCURRENT_UPDATE)."""

    async def remove(self, kind: ItemType) -> None:
        """Deletes the type (ItemTypeInUse when a copy of it was added meanwhile)."""


class BookSearch(Protocol):
    """The read side: books filtered and ordered, and ranked full-text search. Changes nothing."""

    async def rank(
        self, search: Search, *, after: Ranked | None, limit: int, typo_tolerant: bool | None = None
    ) -> Matches:
        """Up to `limit` of the books that match, best first (score, then id), those after `after`; with the
        number of all the matches and the counts of the search's facets over all of them (`count_facet` of
        each FACET_FIELDS name asked for). `typo_tolerant`: rank so (True) or by full text alone (False);
        None: decide (typo-tolerant when full text finds too little), as a search's first page does."""

    async def hits(self, search: Search, ranked: Sequence[Ranked]) -> list[Hit]:
        """These ranked books, in this order, with the passages that match the search text."""

    async def list(
        self, *, conditions: Sequence[Condition], keys: Sequence[SortKey], after: tuple[object, ...] | None, limit: int
    ) -> list[Book]:
        """Up to `limit` + 1 books in the order of `keys` then id, after the sort values `after` (`resume_after`)."""

    async def count(self, *, conditions: Sequence[Condition]) -> int: ...


class RequestLog(Protocol):
    """Idempotent mutations: the resource a request_id produced, remembered in the same transaction."""

    async def recall(self, request_id: uuid.UUID | None, operation: str) -> str | None: ...

    async def remember(self, request_id: uuid.UUID | None, operation: str, resource: str) -> None: ...


class CatalogUnitOfWork(Protocol):
    """One transaction over the catalog; entered once per use case (`async with uow:`)."""

    @property
    def books(self) -> BookRepository: ...

    @property
    def copies(self) -> CopyRepository: ...

    @property
    def item_types(self) -> ItemTypeRepository: ...

    @property
    def search(self) -> BookSearch: ...

    @property
    def requests(self) -> RequestLog: ...

    def single_write(self) -> Self:
        """The next `async with` block reads without a transaction and makes its change, with its events, in one
        statement that commits by itself: it takes no lock and writes once; `commit()` ends it."""

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...

    async def commit(self) -> None:
        """Writes everything, with the outbox rows of the recorded events, atomically."""

    async def flush_events(self) -> None:
        """Writes the events recorded so far with this transaction and lets go of the aggregates that recorded
        them (a long unit of work need not hold them all until its commit); those must record nothing more."""

    async def lock(self, key: str) -> None:
        """Serialises the transactions that lock `key` (a loan or a hold) until this one ends."""
