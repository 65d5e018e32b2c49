"""The in-memory circulation rules and fines, over one fake transaction (fakes.Transaction)."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import TYPE_CHECKING

from services.loans.app.ports import FineFilter, NewestFirst, PageRequest
from services.loans.domain.fines import FINE, Fine, FineEntry, FineKind, FineNotFound, FineStatus
from services.loans.domain.money import CENTS, ZERO
from services.loans.domain.rules import RULE, CirculationRule, RuleNotFound
from services.support.runtime.conflicts import CONCURRENT_UPDATE
from services.support.runtime.errors import AlreadyExists, Conflict
from services.support.runtime.paging import Page

from .fake_repositories import newest_first

if TYPE_CHECKING:
    from .fakes import Transaction


class FakeRuleRepository:
    def __init__(self, transaction: Transaction) -> None:
        self._tx = transaction

    async def all(self) -> list[CirculationRule]:
        return [self._tx.hand_out("rules", row) for row in self._tx.rows("rules").values()]

    async def in_force(self) -> list[CirculationRule]:
        return await self.all()

    async def get(self, rule_id: uuid.UUID) -> CirculationRule:
        row = self._tx.rows("rules").get(rule_id)
        if row is None:
            raise RuleNotFound(RULE.format(rule_id))
        return self._tx.hand_out("rules", row)

    def _ensure_free(self, rule: CirculationRule) -> None:
        key = (rule.terms.patron_category, rule.terms.item_type)
        for row in self._tx.rows("rules").values():
            if row.id != rule.id and (row.terms.patron_category, row.terms.item_type) == key:
                taken = "/".join(key)
                raise AlreadyExists(
                    f"a rule for {taken} already exists", reason="RULE_EXISTS", metadata={"rule": taken}
                )

    async def add(self, rule: CirculationRule) -> None:
        self._ensure_free(rule)
        self._tx.stage("rules", rule)

    async def save(self, rule: CirculationRule) -> None:
        self._tx.check_version("rules", rule, seen=rule.version - 1)  # the update bumped it already
        self._ensure_free(rule)
        self._tx.stage("rules", rule)

    async def delete(self, rule: CirculationRule) -> None:
        stored = self._tx.rows("rules").get(rule.id)
        if stored is None or stored.version != rule.version:
            raise Conflict(f"{rule.name} was changed concurrently; re-read it and retry", reason=CONCURRENT_UPDATE)
        self._tx.deleted.add(rule.id)
        self._tx.seen["rules"].append(rule)


class FakeFineRepository:
    def __init__(self, transaction: Transaction) -> None:
        self._tx = transaction

    def _write(self, fine: Fine) -> None:
        self._tx.entries.setdefault(fine.id, []).extend(fine.new_entries)
        self._tx.stage("fines", fine)
        fine.new_entries.clear()

    async def add(self, fine: Fine) -> None:
        if fine.kind == FineKind.OVERDUE and await self.overdue_fine_of(fine.loan) is not None:
            raise AlreadyExists(f"{fine.loan} already has its overdue fine", reason="OVERDUE_FINE_EXISTS")
        self._write(fine)

    async def get(self, fine_id: uuid.UUID, *, for_update: bool = False) -> Fine:
        row = self._tx.rows("fines").get(fine_id)
        if row is None:
            raise FineNotFound(FINE.format(fine_id))
        return self._tx.hand_out("fines", row)

    async def overdue_fine_of(self, loan: str) -> Fine | None:
        for row in self._tx.rows("fines").values():
            if row.loan == loan and row.kind == FineKind.OVERDUE:
                return self._tx.hand_out("fines", row)
        return None

    async def save(self, fine: Fine) -> None:
        self._tx.check_version("fines", fine, seen=fine.version)
        fine.version += 1
        self._write(fine)

    async def entries(self, fine_id: uuid.UUID) -> list[FineEntry]:
        return [*self._tx.database.fine_entries.get(fine_id, []), *self._tx.entries.get(fine_id, [])]

    async def list_newest_first(
        self, where: FineFilter, *, page: PageRequest[NewestFirst]
    ) -> tuple[Page[Fine], Decimal]:
        matching = [
            row
            for row in self._tx.rows("fines").values()
            if (not where.patron or row.patron == where.patron) and (where.status is None or row.status == where.status)
        ]
        owed = sum((f.outstanding for f in matching if f.status == FineStatus.OUTSTANDING), ZERO)
        return newest_first(matching, lambda fine: (fine.created_at, fine.id), page), Decimal(owed).quantize(CENTS)
