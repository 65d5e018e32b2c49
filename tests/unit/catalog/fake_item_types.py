"""The item types of the in-memory catalog (tests/unit/catalog/fakes.py), as Postgres keeps them."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from services.catalog.domain.item_types import ItemType, ItemTypeExists, ItemTypeInUse, ItemTypeNotFound
from services.support.runtime.conflicts import CONCURRENT_UPDATE
from services.support.runtime.errors import Conflict

SEEDED = datetime(2026, 1, 1, tzinfo=UTC)


def seeded_item_types() -> dict[str, ItemType]:
    """What migration 0010 leaves in a new catalog: BOOK, which may be lent."""
    return {"BOOK": ItemType("BOOK", "BOOK", False, created_at=SEEDED, updated_at=SEEDED)}


def not_for_loan_codes(state: Any) -> frozenset[str]:
    return frozenset(code for code, kind in state.item_types.items() if kind.not_for_loan)


class FakeItemTypeRepository:
    def __init__(self, state: Any, committed: Any) -> None:
        self.state = state
        self._committed = committed
        self.seen: list[Any] = []

    def _track(self, kind: ItemType) -> ItemType:
        self.seen.append(kind)
        return kind

    async def add(self, kind: ItemType) -> None:
        if kind.code in self.state.item_types:
            raise ItemTypeExists(kind.code)
        self.state.item_types[kind.code] = dataclasses.replace(kind, events=[])
        self._track(kind)

    async def get(self, code: str, *, for_update: bool = False) -> ItemType:
        if code not in self.state.item_types:
            raise ItemTypeNotFound(code)
        return self._track(dataclasses.replace(self.state.item_types[code], events=[]))

    async def list(self, *, after: str | None, limit: int) -> list[ItemType]:
        codes = sorted(code for code in self.state.item_types if after is None or code > after)
        return [dataclasses.replace(self.state.item_types[code], events=[]) for code in codes[: limit + 1]]

    async def count(self) -> int:
        return len(self.state.item_types)

    async def known(self, codes: Sequence[str]) -> dict[str, bool]:
        return {code: self.state.item_types[code].not_for_loan for code in codes if code in self.state.item_types}

    async def copies_of(self, code: str) -> int:
        return sum(1 for copy in self.state.copies.values() if copy.details.item_type == code)

    async def move_copies(self, code: str, to: str, *, now: datetime) -> int:
        moved = [copy for copy in self.state.copies.values() if copy.details.item_type == code]
        for copy in moved:
            copy.details = dataclasses.replace(copy.details, item_type=to)
            copy.updated_at, copy.version = now, copy.version + 1
        return len(moved)

    async def save(self, kind: ItemType) -> None:
        stored = self.state.item_types.get(kind.code)
        if stored is None or stored.version != kind.version - 1:
            raise Conflict(f"{kind.name} was changed concurrently", reason=CONCURRENT_UPDATE)
        self.state.item_types[kind.code] = dataclasses.replace(kind, events=[])

    async def remove(self, kind: ItemType) -> None:
        if used := await self.copies_of(kind.code):
            raise ItemTypeInUse(kind.code, used)
        del self.state.item_types[kind.code]
