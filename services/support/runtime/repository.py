"""The repositories' base: the aggregates they handed out (for their events), and their statements, run on the
driver or on the session as their unit of work has it."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar, cast

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from services.support.runtime.carrying import Carried, RequestRecord, carrying_events
from services.support.runtime.conflicts import CONCURRENT_UPDATE
from services.support.runtime.driver import ADVISORY_LOCK, DriverStatement
from services.support.runtime.errors import Conflict
from services.support.runtime.requests_table import request_taken


class HasEvents(Protocol):
    @property
    def events(self) -> list[Any]: ...  # read-only here: a frozen aggregate's list is still appended to


AggregateT = TypeVar("AggregateT", bound=HasEvents)


_VERSIONED_UPDATES: dict[tuple[str, tuple[str, ...], bool], DriverStatement] = {}


def versioned_update(
    table: sa.Table, columns: Iterable[str], *, carrying: bool, provided: sa.ColumnElement[bool] | None = None
) -> DriverStatement:
    """UPDATE … WHERE id = :row_id AND version = :seen_version (and `provided`, when given), setting `columns`
    and the version; with `carrying`, as a `carrying_events` statement. The table needs `id` and `version`
    columns. One with a condition of its own is built once by its repository and run by
    `TrackingRepository._update_versioned_if`."""
    setting = {name: sa.bindparam(name, type_=table.c[name].type) for name in (*columns, "version")}
    conditions = [table.c.id == sa.bindparam("row_id"), table.c.version == sa.bindparam("seen_version")]
    update = table.update().where(*conditions, *([provided] if provided is not None else [])).values(setting)
    return carrying_events(update.returning(table.c.id)) if carrying else DriverStatement(update)


def _versioned_update(table: sa.Table, columns: tuple[str, ...], *, carrying: bool) -> DriverStatement:
    """`versioned_update` without a condition, built once per table, columns and form."""
    statement = _VERSIONED_UPDATES.get((table.fullname, columns, carrying))
    if statement is None:
        statement = _VERSIONED_UPDATES[table.fullname, columns, carrying] = versioned_update(
            table, columns, carrying=carrying
        )
    return statement


def _versioned_parameters(values: Mapping[str, Any], *, row_id: uuid.UUID, version: int) -> dict[str, Any]:
    """A versioned update's parameters: the values, the next version, and the row and version it was read at."""
    return {**values, "version": version + 1, "row_id": row_id, "seen_version": version}


@dataclass(frozen=True, slots=True)
class DriverAccess:
    """A repository's way to the driver: the unit of work's connection, and whether the unit of work is
    read-only (where only the reads marked `read` take the driver: a read-only unit of work's other statements
    run on its session, and one unit of work should hold one connection when it can)."""

    connection: Callable[[], Awaitable[Any]]
    read_only: bool
    lock: Callable[[str], Awaitable[None]]
    writing: Callable[[], None] | None = None
    """Told before each statement not marked `read` runs: a single-write block refuses its second."""
    carry: Callable[[], Carried] | None = None
    """The outbox rows of every event recorded so far (and a single-write block's request record), which the
    next write built to carry them takes along: in a single-write block (its one write) and in a transaction
    on the driver (a round trip fewer at commit)."""
    keep_request: Callable[[RequestRecord], None] | None = None
    """In a single-write block: keeps the request's record (`RequestLog.remember`) for its write to carry."""

    @property
    def in_transaction(self) -> bool:
        """A read-write unit of work's own transaction (not a single-write block's lone statement)."""
        return self.carry is not None and self.writing is None

    def reads(self) -> DriverAccess:
        """The same connection for the reads marked `read` alone: a repository whose writes stay on the session
        (they neither carry events nor count as a single-write block's write)."""
        return DriverAccess(self.connection, read_only=True, lock=self.lock)

    def uncarried(self) -> DriverAccess:
        """The same connection for every DriverStatement, whose changes carry no outbox rows: a repository whose
        aggregates' events the unit of work writes at its commit, as it does a session's (in a read-only unit of
        work, only the reads marked `read`, as `reads()`; a single-write block still refuses a second write)."""
        return DriverAccess(self.connection, read_only=self.read_only, lock=self.lock, writing=self.writing)


Statement = DriverStatement | sa.Executable
"""What a repository runs: a DriverStatement runs on the driver when the unit of work has its connection."""


def _built(statement: Statement) -> sa.Executable:
    return statement.statement if isinstance(statement, DriverStatement) else statement


class TrackingRepository:
    """Remembers the aggregates it handed out, so the unit of work can collect their events.

    `driver`: how the unit of work's statements may run on the driver (`SqlAlchemyUnitOfWork.repository_driver`):
    `_first`, `_fetch` and `_execute` then run a DriverStatement there (in a read-only unit of work, only one
    marked `read`); anything else (and everything without a driver) runs on the session."""

    def __init__(self, session: AsyncSession, *, driver: DriverAccess | None = None) -> None:
        self.session = session
        self.seen: list[HasEvents] = []
        self._driver_access = driver

    def _on_driver(self, statement: Statement) -> Callable[[], Awaitable[Any]] | None:
        access = self._driver_access
        if access is None or not isinstance(statement, DriverStatement):
            return None
        if statement.read:
            return access.connection
        if access.read_only:
            return None
        if access.writing is not None:
            access.writing()
        return access.connection

    async def _fetch(self, statement: Statement, values: Mapping[str, Any]) -> list[Mapping[Any, Any]]:
        """Every row the statement returns, read by column name."""
        if (driver := self._on_driver(statement)) is not None:
            return await cast(DriverStatement, statement).fetch(await driver(), **values)
        return [row._mapping for row in (await self.session.execute(_built(statement), values)).all()]

    async def _first(self, statement: Statement, values: Mapping[str, Any]) -> Mapping[Any, Any] | None:
        """The first row the statement returns, by column name (None when none)."""
        if (driver := self._on_driver(statement)) is not None:
            record: Mapping[Any, Any] | None = await cast(DriverStatement, statement).fetchrow(await driver(), **values)
            return record
        row = (await self.session.execute(_built(statement), values)).first()
        return row._mapping if row is not None else None

    async def _execute(self, statement: Statement, values: Mapping[str, Any]) -> int:
        """Runs a statement that returns no rows; how many rows it changed."""
        if (driver := self._on_driver(statement)) is not None:
            return await cast(DriverStatement, statement).execute(await driver(), **values)
        return int((await self.session.execute(_built(statement), values)).rowcount)  # type: ignore[attr-defined]

    async def _update_versioned(
        self,
        table: sa.Table,
        *,
        row_id: uuid.UUID,
        version: int,
        values: dict[str, Any],
        name: str,
        carrying: bool = False,
    ) -> None:
        """UPDATE … WHERE id = :id AND version = :seen, bumping the version; Conflict when someone else won.

        The table needs `id` and `version` columns. The value keys name the columns to set: one statement per
        table and set of columns, built once. In a transaction on the driver it carries the outbox rows of the
        events recorded so far (the commit then writes only those recorded after it); with `carrying`, also
        as a single-write block's write (which may then record events)."""
        parameters = _versioned_parameters(values, row_id=row_id, version=version)
        if carrying or (self._driver_access is not None and self._driver_access.in_transaction):
            statement = _versioned_update(table, tuple(values), carrying=True)
            changed = await self._change_carrying_events(statement, parameters)
        else:
            changed = await self._execute(_versioned_update(table, tuple(values), carrying=False), parameters)
        if changed != 1:
            raise Conflict(f"{name} was changed concurrently; re-read it and retry", reason=CONCURRENT_UPDATE)

    async def _update_versioned_if(
        self, statement: DriverStatement, *, row_id: uuid.UUID, version: int, values: dict[str, Any], **condition: Any
    ) -> bool:
        """Runs a `versioned_update(..., carrying=True, provided=…)` statement (`condition`: the parameters of
        its own condition); whether it wrote the row (not when someone else changed it, or the condition did not
        hold). It carries events and a request's record as `_change_carrying_events` does."""
        parameters = _versioned_parameters(values, row_id=row_id, version=version) | condition
        return await self._change_carrying_events(statement, parameters) == 1

    async def _change_carrying_events(self, statement: DriverStatement, values: Mapping[str, Any]) -> int:
        """Runs a change built with `carrying_events`; how many rows it touched. On the driver (a single-write
        block, or a transaction) it carries the outbox rows of the events recorded so far (and a single-write
        block's request record), which then commit with it or not at all; elsewhere it carries none, and the
        unit of work writes them at its commit. Conflict (REQUEST_IN_PROGRESS) when the change was made but
        its request's record was not (another attempt owns the request_id: it will find the change made)."""
        carry = self._driver_access.carry if self._driver_access is not None else None
        carried = carry() if carry is not None else Carried()
        row = await self._first(statement, {**values, **carried.parameters()})
        changed = int(row["changed"]) if row is not None else 0
        if changed and carried.request is not None and row is not None and not row["remembered"]:
            raise request_taken()
        return changed

    async def _advisory_lock(self, key: str) -> None:
        """Serialises transactions on `key` until this one ends (a transaction-scoped advisory lock), as the
        unit of work takes it when it gave a way to its connection."""
        if self._driver_access is not None:
            await self._driver_access.lock(key)
        else:
            await self.session.execute(ADVISORY_LOCK.statement, {"key": key})

    def _track(self, aggregate: AggregateT) -> AggregateT:
        self.seen.append(aggregate)
        return aggregate
