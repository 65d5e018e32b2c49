"""An in-memory catalog behind the same ports as Postgres (cosmicpython's FakeUnitOfWork), for use-case tests.

State is kept as snapshots, like rows: a repository hands out fresh aggregates and stores copies of what it
is given, and a unit of work works on its own copy of the state that only `commit()` makes visible. A save
is refused, as by Postgres, when another unit of work committed a newer version of the row meanwhile. The
commit also drains the recorded events into `published` (the outbox). Locks are recorded, not enforced.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Self

from services.catalog.domain.books import Book
from services.catalog.domain.copies import Copy
from services.catalog.domain.item_types import ItemType
from services.support.runtime.events import DomainEvent
from tests.unit.catalog.fake_catalog_repositories import FakeBookRepository, FakeCopyRepository, FakeRequestLog
from tests.unit.catalog.fake_item_types import FakeItemTypeRepository, seeded_item_types
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
