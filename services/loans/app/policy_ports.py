"""The repositories of the library's lending policy, which admins edit and lending reads through a per-process
cache: the circulation rules (the matrix) and the days the library is closed. The unit of work that holds them,
and the other repositories, are in ports.py.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Protocol

from services.loans.domain.calendar import ClosedDay
from services.loans.domain.rules import CirculationRule


class RuleRepository(Protocol):
    async def all(self) -> list[CirculationRule]:
        """The matrix as committed now (what admins list and edit)."""

    async def in_force(self, *, item_type: str = "", renamed_at: datetime | None = None) -> list[CirculationRule]:
        """The matrix lending applies: may come from a per-process cache that every rule edit invalidates
        (at once in the process that made it, within moments in the others, bounded by a TTL). For a copy whose
        `item_type` took its code in a catalog rename at `renamed_at`, a matrix that has followed that rename;
        RulesBehindCatalog when none has yet."""

    async def follow_rename(self, code: str, *, renamed_at: datetime) -> None:
        """Record, with the rules it re-keyed, that the catalog's rename to `code` at `renamed_at` was followed."""

    async def get(self, rule_id: uuid.UUID) -> CirculationRule:
        """Raises RuleNotFound."""

    async def add(self, rule: CirculationRule) -> None:
        """AlreadyExists (RULE_EXISTS) when the category and item type have a rule."""

    async def save(self, rule: CirculationRule) -> None:
        """Writes back an updated rule (its version already bumped by the update) unless someone else
        changed it meanwhile (Conflict, CONCURRENT_UPDATE); AlreadyExists (RULE_EXISTS) as for add."""

    async def delete(self, rule: CirculationRule) -> None:
        """Removes the rule unless someone else changed it since it was read (Conflict, CONCURRENT_UPDATE)."""


class ClosedDayRepository(Protocol):
    async def in_force(self) -> frozenset[date]:
        """The closed dates lending applies: may come from a per-process cache that every change invalidates (at
        once in the process that made it, within moments in the others, bounded by a TTL)."""

    async def between(self, start: date | None, end: date | None) -> list[ClosedDay]:
        """The closed days from `start` to `end` (None: unbounded), earliest first."""

    async def get(self, day: date) -> ClosedDay:
        """Raises ClosedDayNotFound."""

    async def add(self, closed: ClosedDay) -> None:
        """AlreadyExists (CLOSED_DAY_EXISTS) when the library is closed that day already."""

    async def delete(self, closed: ClosedDay) -> None: ...
