"""A DriverStatement sends what SQLAlchemy would send: its values through the statement's bind processors, in
the driver's positional order, its own constants written into its text; a statement it cannot run is refused
when it is built."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import asyncpg
import pytest
import sqlalchemy as sa

from services.support.runtime.driver import DriverStatement, violated_constraint

metadata = sa.MetaData()
things = sa.Table(
    "things",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("status", sa.Text),
    sa.Column("extra", sa.JSON),
    sa.Column("flagged", sa.Boolean),
    sa.Column("seen", sa.DateTime(timezone=True)),
)


class RecordingConnection:
    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple[Any, ...]]] = []

    async def execute(self, sql: str, *args: Any) -> str:
        self.calls.append((sql, args))
        return "UPDATE 3"

    async def fetchrow(self, sql: str, *args: Any) -> None:
        self.calls.append((sql, args))


async def test_json_values_are_sent_as_their_text_and_constants_are_written_into_the_statement() -> None:
    statement = DriverStatement(
        things.update()
        .where(things.c.id == sa.bindparam("row_id"), things.c.status == "OPEN")
        .values(extra=sa.bindparam("extra", type_=things.c.extra.type))
    )
    connection = RecordingConnection()
    changed = await statement.execute(connection, row_id=7, extra={"a": [1, "é"]})
    ((sql, args),) = connection.calls
    assert changed == 3  # from the command tag
    assert "$2" in sql and "$3" not in sql and "things.status = 'OPEN'" in sql
    assert json.loads(args[0]) == {"a": [1, "é"]}
    assert args[1:] == (7,)


async def test_a_constant_is_written_as_postgres_reads_it_and_one_that_would_not_read_the_same_stays_a_value() -> None:
    """Written out, a prepared statement's generic plan can use a partial index on the constant (`WHERE status =
    'ACTIVE'`); a constant of another kind (a timestamp, a JSON value), a string with a backslash (which a server
    without standard_conforming_strings reads otherwise) and None are still sent as values."""
    seen = datetime(2026, 1, 2, tzinfo=UTC)
    statement = DriverStatement(
        sa.select(things.c.id)
        .where(
            things.c.status == "it's",
            things.c.status != "a\\b",
            things.c.id > 3,
            things.c.flagged.is_(True),
            things.c.flagged == False,  # noqa: E712 - a bound boolean, not SQL's IS
            things.c.seen > seen,
            things.c.id == sa.bindparam("wanted"),
        )
        .limit(1)
    )
    connection = RecordingConnection()
    await statement.fetchrow(connection, wanted=9)
    ((sql, args),) = connection.calls
    assert "things.status = 'it''s'" in sql and "things.id > 3" in sql and "things.flagged = false" in sql
    assert "LIMIT 1" in sql
    assert args == ("a\\b", seen, 9)


async def test_a_value_that_is_not_given_is_sent_as_null() -> None:
    statement = DriverStatement(sa.select(things).where(things.c.id == sa.bindparam("wanted")))
    connection = RecordingConnection()
    await statement.fetchrow(connection)
    assert connection.calls[0][1] == (None,)


def test_an_expanding_in_is_refused_where_the_statement_is_built() -> None:
    with pytest.raises(ValueError, match="expanding IN"):
        DriverStatement(sa.select(things).where(things.c.status.in_(["OPEN", "HELD"])))


def test_the_broken_constraint_is_named_for_the_drivers_error_and_for_sqlalchemys() -> None:
    raw = asyncpg.UniqueViolationError("duplicate key")
    raw.constraint_name = "things_status_key"  # type: ignore[attr-defined]
    wrapped = sa.exc.IntegrityError("INSERT …", {}, Exception("adapted"))
    wrapped.orig.__cause__ = raw  # type: ignore[union-attr]
    assert violated_constraint(raw) == violated_constraint(wrapped) == "things_status_key"
    assert violated_constraint(ValueError("nothing to do with it")) == ""
