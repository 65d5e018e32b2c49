"""Persistence of the circulation rules matrix (and of the terms a loan was issued under)."""

from __future__ import annotations

import uuid
from dataclasses import asdict, fields
from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.loans.data.rule_cache import RuleCache
from services.loans.data.tables import circulation_rules, item_type_renames
from services.loans.domain.rule_keys import RenamesFollowed, RulesBehindCatalog
from services.loans.domain.rules import RULE, CirculationRule, RuleNotFound, RuleTerms
from services.support.runtime.conflicts import CONCURRENT_UPDATE
from services.support.runtime.driver import INTEGRITY_ERRORS, violated_constraint
from services.support.runtime.errors import AlreadyExists, Conflict
from services.support.runtime.repository import TrackingRepository

_TERM_FIELDS = [f.name for f in fields(RuleTerms)]
_MONEY_FIELDS = ("fine_per_day", "fine_cap", "max_outstanding_fines")


def terms_to_json(terms: RuleTerms | None) -> dict[str, Any] | None:
    """RuleTerms -> JSON-safe dict (Decimal and datetime as strings) for the loan's snapshot column."""
    if terms is None:
        return None
    data = asdict(terms)
    for key, value in data.items():
        if isinstance(value, Decimal | datetime):
            data[key] = value.isoformat() if isinstance(value, datetime) else str(value)
    return data


def terms_from_json(data: dict[str, Any] | None) -> RuleTerms | None:
    if not data:
        return None
    values = dict(data)
    for key in _MONEY_FIELDS:
        if values.get(key) is not None:
            values[key] = Decimal(values[key])
    if values.get("hard_due_at"):
        values["hard_due_at"] = datetime.fromisoformat(values["hard_due_at"])
    return RuleTerms(**values)


def _to_rule(row: sa.Row[Any]) -> CirculationRule:
    m = row._mapping
    terms = RuleTerms(**{name: m[name] for name in _TERM_FIELDS})
    return CirculationRule(
        id=m["id"], terms=terms, created_at=m["created_at"], updated_at=m["updated_at"], version=m["version"]
    )


def _terms_row(terms: RuleTerms) -> dict[str, Any]:
    return {name: getattr(terms, name) for name in _TERM_FIELDS}


def _taken(terms: RuleTerms) -> AlreadyExists:
    key = f"{terms.patron_category}/{terms.item_type}"
    return AlreadyExists(f"a rule for {key} already exists", reason="RULE_EXISTS", metadata={"rule": key})


_ALL_RULES = sa.select(circulation_rules)


class SqlRuleRepository(TrackingRepository):
    def __init__(self, session: AsyncSession, *, cache: RuleCache | None = None) -> None:
        super().__init__(session)
        self._cache = cache
        self.edited = False
        """A rule was added, changed or deleted in this transaction (the cache is dropped at its commit)."""

    async def all(self) -> list[CirculationRule]:
        rows = (await self.session.execute(_ALL_RULES)).all()
        return [self._track(_to_rule(row)) for row in rows]

    async def in_force(self, *, item_type: str = "", renamed_at: datetime | None = None) -> list[CirculationRule]:
        """The matrix lending applies: from this process's cache when it holds it, else read (and kept). For a
        copy whose `item_type` took its code at `renamed_at`, one that has followed that rename: read past a
        cache that had not, RulesBehindCatalog when the table has not either."""
        if self._cache is None and renamed_at is None:
            return await self.all()
        view = self._cache.view() if self._cache is not None else None
        if view is not None and view[1].cover(item_type, renamed_at):
            return view[0]
        generation = self._cache.generation() if self._cache is not None else 0
        # The renames first: the rules a rename re-keyed were committed with its row, so the later read has them.
        renames = await self.renames_followed()
        rules = await self.all()
        if self._cache is not None:
            self._cache.put(rules, generation, renames)
        if not renames.cover(item_type, renamed_at):
            raise RulesBehindCatalog(item_type)
        return rules

    async def renames_followed(self) -> RenamesFollowed:
        rows = (await self.session.execute(sa.select(item_type_renames))).all()
        return RenamesFollowed({row.code: row.renamed_at for row in rows})

    async def follow_rename(self, code: str, *, renamed_at: datetime) -> None:
        """Record that the rules followed the catalog's rename to `code` made at `renamed_at` (the newest kept)."""
        self.edited = True  # this process's cached view has not: it is dropped at the commit
        insert = pg_insert(item_type_renames).values(code=code, renamed_at=renamed_at)
        newest = sa.func.greatest(item_type_renames.c.renamed_at, insert.excluded.renamed_at)
        await self.session.execute(insert.on_conflict_do_update(index_elements=["code"], set_={"renamed_at": newest}))

    async def get(self, rule_id: uuid.UUID) -> CirculationRule:
        row = (
            await self.session.execute(sa.select(circulation_rules).where(circulation_rules.c.id == rule_id))
        ).first()
        if row is None:
            raise RuleNotFound(RULE.format(rule_id))
        return self._track(_to_rule(row))

    async def add(self, rule: CirculationRule) -> None:
        self.edited = True
        row = {"id": rule.id, **_terms_row(rule.terms), "created_at": rule.created_at}
        try:
            await self.session.execute(
                circulation_rules.insert().values(**row, updated_at=rule.updated_at, version=rule.version)
            )
        except INTEGRITY_ERRORS as error:
            if violated_constraint(error) == "circulation_rules_category_item_type_key":
                raise _taken(rule.terms) from None
            raise
        self._track(rule)

    async def save(self, rule: CirculationRule) -> None:
        self.edited = True
        values = {**_terms_row(rule.terms), "updated_at": rule.updated_at}
        try:
            await self._update_versioned(
                circulation_rules,
                row_id=rule.id,
                version=rule.version - 1,
                values=values,
                name=rule.name,
            )
        except INTEGRITY_ERRORS as error:
            if violated_constraint(error) == "circulation_rules_category_item_type_key":
                raise _taken(rule.terms) from None
            raise
        self._track(rule)

    async def delete(self, rule: CirculationRule) -> None:
        self.edited = True
        deleted = await self.session.execute(
            circulation_rules.delete().where(
                circulation_rules.c.id == rule.id, circulation_rules.c.version == rule.version
            )
        )
        if deleted.rowcount != 1:  # type: ignore[attr-defined]
            raise Conflict(f"{rule.name} was changed concurrently; re-read it and retry", reason=CONCURRENT_UPDATE)
        self._track(rule)
