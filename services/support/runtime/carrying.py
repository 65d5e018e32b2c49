"""A change and the outbox rows of its events in one statement.

A single-write block (`SqlAlchemyUnitOfWork.single_write`) commits its one statement by itself, with no
transaction around it: where that statement is a change built with `carrying_events`, it also writes the
events the block recorded, so the change and its events still commit together or not at all (two round trips
fewer than BEGIN … outbox rows … COMMIT). In a transaction on the driver, a versioned update carries the
events recorded before it the same way, and the commit writes only the rest (a round trip fewer). The rows
go as one array per column, so the statement is prepared once whatever the number of events; they are
written only when the change touched a row.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as upsert

from services.support.runtime.driver import DriverStatement
from services.support.runtime.outbox import OUTBOX, OutboxMessage


def _element_type(name: str) -> sa.types.TypeEngine[Any]:
    """An outbox column's type as an array element: its own, but JSON goes as text, cast in the statement (an
    array of json is not a parameter type asyncpg has)."""
    return sa.Text() if name == "headers" else OUTBOX.c[name].type


def carrying_events(change: sa.Update | sa.Insert) -> DriverStatement:
    """`change` (with a RETURNING clause) and the outbox rows in `outbox_arrays(...)`, written only when the
    change touched a row; the statement's one row says how many it touched (`changed`). An event already in
    the outbox (the same id) is dropped, as at a commit."""
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
    # Postgres runs both data-modifying parts whatever the outer query reads; SQLAlchemy writes out only the
    # parts it references, hence the count of `written`.
    count = sa.func.count
    return DriverStatement(
        sa.select(
            sa.select(count()).select_from(changed).scalar_subquery().label("changed"),
            sa.select(count()).select_from(written).scalar_subquery().label("written"),
        )
    )


def outbox_arrays(rows: Sequence[Mapping[str, Any]]) -> dict[str, list[Any]]:
    """The parameters of a `carrying_events` statement: the rows (`OutboxMessage.row()`) column by column."""
    arrays: dict[str, list[Any]] = {f"outbox_{name}": [] for name in OutboxMessage.COLUMNS}
    for row in rows:
        for name in OutboxMessage.COLUMNS:
            value = row[name]
            arrays[f"outbox_{name}"].append(json.dumps(value) if name == "headers" else value)
    return arrays
