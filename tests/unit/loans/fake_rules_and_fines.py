"""The in-memory circulation rules and fines, over one fake transaction (fakes.Transaction)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from services.loans.app.list_requests import FineFilter, NewestFirst, PageRequest
from services.loans.domain.calendar import ClosedDay, ClosedDayNotFound
from services.loans.domain.fines import FINE, Fine, FineEntry, FineKind, FineNotFound, FineStatus
from services.loans.domain.money import CENTS, ZERO
from services.loans.domain.rule_keys import RenamesFollowed, RulesBehindCatalog
from services.loans.domain.rules import RULE, CirculationRule, RuleNotFound
from services.support.runtime.conflicts import CONCURRENT_UPDATE
from services.support.runtime.errors import AlreadyExists, Conflict
from services.support.runtime.paging import Page

from .fake_repositories import newest_first

if TYPE_CHECKING:
    from .fakes import Transaction


class FakeClosedDayRepository:
    """The calendar; `in_force` reads the committed days (the process cache is data/'s, tested there)."""

    def __init__(self, transaction: Transaction) -> None:
        self._tx = transaction

    async def in_force(self) -> frozenset[date]:
        return frozenset(self._tx.rows("closed_days"))

    async def between(self, start: date | None, end: date | None) -> list[ClosedDay]:
        days = sorted(self._tx.rows("closed_days").values(), key=lambda closed: closed.day)
        return [
            self._tx.hand_out("closed_days", closed)
            for closed in days
            if (start is None or closed.day >= start) and (end is None or closed.day <= end)
        ]

    async def get(self, day: date) -> ClosedDay:
        row = self._tx.rows("closed_days").get(day)
        if row is None:
            raise ClosedDayNotFound(day)
        return self._tx.hand_out("closed_days", row)

    async def add(self, closed: ClosedDay) -> None:
        if closed.day in self._tx.rows("closed_days"):
            raise AlreadyExists(f"the library is already closed on {closed.day}", reason="CLOSED_DAY_EXISTS")
        self._tx.stage("closed_days", closed)

    async def delete(self, closed: ClosedDay) -> None:
        self._tx.deleted.add(closed.day)  # type: ignore[arg-type]  # the calendar's rows are keyed by date
        self._tx.seen["closed_days"].append(closed)


class FakeRuleRepository:
    def __init__(self, transaction: Transaction) -> None:
        self._tx = transaction

    async def all(self) -> list[CirculationRule]:
        return [self._tx.hand_out("rules", row) for row in self._tx.rows("rules").values()]

    async def in_force(self, *, item_type: str = "", renamed_at: datetime | None = None) -> list[CirculationRule]:
        if not RenamesFollowed({**self._tx.database.item_type_renames}).cover(item_type, renamed_at):
            raise RulesBehindCatalog(item_type)
        return await self.all()

    async def follow_rename(self, code: str, *, renamed_at: datetime) -> None:
        self._tx.item_type_renames[code] = renamed_at

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

    async def hold_charges(self, patron: str, *, until: datetime) -> None:
        self._tx.charges_held[patron] = until

    async def charges_held_until(self, patron: str) -> datetime | None:
        return self._tx.charges_held.get(patron) or self._tx.database.charges_held.get(patron)

    def _write(self, fine: Fine) -> None:
        self._tx.entries.setdefault(fine.id, []).extend(fine.new_entries)
        self._tx.stage("fines", fine)
        fine.new_entries.clear()

    async def add(self, fine: Fine) -> None:
        if fine.kind == FineKind.OVERDUE and self._overdue_fines([fine.loan]):
            raise AlreadyExists(f"{fine.loan} already has its overdue fine", reason="OVERDUE_FINE_EXISTS")
        self._write(fine)

    async def get(self, fine_id: uuid.UUID, *, for_update: bool = False) -> Fine:
        row = self._tx.rows("fines").get(fine_id)
        if row is None:
            raise FineNotFound(FINE.format(fine_id))
        return self._tx.hand_out("fines", row)

    async def overdue_fine_of(self, loan: str) -> Fine | None:
        return (await self.overdue_fines_of([loan])).get(loan)

    async def overdue_fines_of(self, loans: Sequence[str]) -> dict[str, Fine]:
        self._tx.database.fine_reads += 1
        return {row.loan: self._tx.hand_out("fines", row) for row in self._overdue_fines(loans)}

    def _overdue_fines(self, loans: Sequence[str]) -> list[Fine]:
        wanted = set(loans)
        return [row for row in self._tx.rows("fines").values() if row.loan in wanted and row.kind == FineKind.OVERDUE]

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
