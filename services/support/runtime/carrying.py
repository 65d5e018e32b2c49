"""A change and the outbox rows of its events in one statement.

A single-write block (`SqlAlchemyUnitOfWork.single_write`) commits its one statement by itself, with no
transaction around it: where that statement is a change built with `carrying_events`, it also writes the
events the block recorded, and the record of its request (`RequestLog.remember`, called before the write), so
the change, its events and its request's record still commit together or not at all (three round trips fewer
than BEGIN … outbox rows … the record … COMMIT). In a transaction on the driver, a versioned update carries the
events recorded before it the same way, and the commit writes only the rest (a round trip fewer). The rows
go as one array per column, so the statement is prepared once whatever the number of events; they are
written only when the change touched a row.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, UUID
from sqlalchemy.dialects.postgresql import insert as upsert

from services.support.runtime.driver import DriverStatement
from services.support.runtime.outbox import OUTBOX, OutboxMessage
from services.support.runtime.requests_table import COMMITTED, RECORD_COLUMNS, REQUESTS, committed_record

RequestRecord = tuple[uuid.UUID, str, str, uuid.UUID | None]
"""A request's record (`RequestLog.remember`): its id, its operation, what it made, and the attempt that owns
the id (None when the call was not claimed by the runtime)."""


@dataclass(frozen=True, slots=True)
class Carried:
    """What a carrying write takes along: the outbox rows of the events recorded before it and, in a
    single-write block, its request's record."""

    outbox_rows: Sequence[Mapping[str, Any]] = field(default_factory=list)
    request: RequestRecord | None = None

    def parameters(self) -> dict[str, Any]:
        """The parameters of a `carrying_events` statement beside the change's own."""
        record = self.request or (None, None, None, None)
        return {**outbox_arrays(self.outbox_rows), **dict(zip(_RECORD_PARAMETERS, record, strict=True))}


_RECORD_PARAMETERS = ("ledger_request_id", "ledger_operation", "ledger_resource", "ledger_attempt")


def _element_type(name: str) -> sa.types.TypeEngine[Any]:
    """An outbox column's type as an array element: its own, but JSON goes as text, cast in the statement (an
    array of json is not a parameter type asyncpg has)."""
    return sa.Text() if name == "headers" else OUTBOX.c[name].type


def carrying_events(change: sa.Update | sa.Insert) -> DriverStatement:
    """`change` (with a RETURNING clause), the outbox rows and the request's record in `Carried.parameters()`,
    written only when the change touched a row; the statement's one row says how many rows it touched
    (`changed`) and whether the record was made (`remembered`; not when another attempt owns the request_id:
    the change is made all the same, as one statement it cannot wait on the record). An event already in the
    outbox (the same id) is dropped, as at a commit."""
    changed = change.cte("changed")
    columns = OutboxMessage.COLUMNS
    arrays = (sa.bindparam(f"outbox_{name}", type_=ARRAY(_element_type(name))) for name in columns)
    rows = sa.func.unnest(*arrays).table_valued(*columns).render_derived(name="rows")
    values = [sa.cast(rows.c[name], OUTBOX.c.headers.type) if name == "headers" else rows.c[name] for name in columns]
    written = (
        upsert(OUTBOX)
        .from_select(list(columns), sa.select(*values).where(sa.exists().select_from(changed)))
        .on_conflict_do_nothing(index_elements=["event_id"])
        .returning(OUTBOX.c.seq)
        .cte("written")
    )
    remembered = _request_record(changed).cte("remembered")
    # Postgres runs every data-modifying part whatever the outer query reads; SQLAlchemy writes out only the
    # parts it references, hence the counts of `written` and `remembered`.
    count = sa.func.count
    return DriverStatement(
        sa.select(
            sa.select(count()).select_from(changed).scalar_subquery().label("changed"),
            sa.select(count()).select_from(written).scalar_subquery().label("written"),
            sa.select(count()).select_from(remembered).scalar_subquery().label("remembered"),
        )
    )


def _request_record(changed: sa.CTE) -> sa.Insert:
    """The request's record as `RequestLog.remember` makes it, when the change touched a row (no row without
    a request_id)."""
    rid_name, operation_name, resource_name, attempt_name = _RECORD_PARAMETERS
    rid = sa.bindparam(rid_name, type_=UUID(as_uuid=True))
    operation = sa.bindparam(operation_name, type_=sa.Text)
    resource = sa.bindparam(resource_name, type_=sa.Text)
    attempt = sa.bindparam(attempt_name, type_=UUID(as_uuid=True))
    values = sa.select(rid, operation, resource, sa.literal(COMMITTED), attempt)
    made = values.where(rid.is_not(None), sa.exists().select_from(changed))
    return committed_record(upsert(REQUESTS).from_select(list(RECORD_COLUMNS), made))


def outbox_arrays(rows: Sequence[Mapping[str, Any]]) -> dict[str, list[Any]]:
    """The parameters of a `carrying_events` statement: the rows (`OutboxMessage.row()`) column by column."""
    arrays: dict[str, list[Any]] = {f"outbox_{name}": [] for name in OutboxMessage.COLUMNS}
    for row in rows:
        for name in OutboxMessage.COLUMNS:
            value = row[name]
            arrays[f"outbox_{name}"].append(json.dumps(value) if name == "headers" else value)
    return arrays
