"""The hot statements' plans on real Postgres: a statement the driver prepares once per connection is planned
once (a generic plan), not at every call, when the copy behind it has been lent many times before."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from loans_world import DESK, START, World

from services.loans.app.issuing import IssueLoan
from services.loans.data.loan_statements import TO_RETURN_BY_BARCODE

pytestmark = pytest.mark.integration
CALLS = 8
"""Postgres plans a prepared statement for the call's values five times, then weighs a generic plan."""

# Returned loans of the same copy, copied from its active one (every column as it is, but the id and status).
_HISTORY = """
INSERT INTO loans SELECT (jsonb_populate_record(NULL::loans, to_jsonb(l) || jsonb_build_object(
    'id', gen_random_uuid(), 'request_id', NULL, 'status', 'RETURNED'))).*
FROM loans AS l, generate_series(1, :n) WHERE l.id = :loan_id
"""


async def test_a_return_by_barcode_is_planned_once_per_connection_not_at_every_call(world: World) -> None:
    """Its condition `status = 'ACTIVE'` is written into the statement, so the generic plan can use the index
    of active loans by barcode (as a plan for the call's values does) and is chosen: sent as a value, it could
    not, looked dearer than a plan made for the barcode, and every return was planned again (~0.5 ms each)."""
    _, (copy,) = world.catalog.add_book()
    barcode = world.catalog.barcode(copy)
    loan = await world.issue(IssueLoan("users/p1", barcode=barcode, actor=DESK))
    async with world.engine.begin() as connection:
        await connection.execute(sa.text(_HISTORY), {"n": 400, "loan_id": loan.id})
        await connection.execute(sa.text("ANALYZE loans"))
    async with world.engine.connect() as connection:
        driver = (await connection.get_raw_connection()).driver_connection
        for _ in range(CALLS):
            found = await TO_RETURN_BY_BARCODE.fetchrow(driver, barcode=barcode.upper(), now=START)
            assert found["id"] == loan.id
        generic, custom = await driver.fetchrow(
            "SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE statement = $1",
            TO_RETURN_BY_BARCODE.sql,
        )
    assert generic == CALLS - custom and custom <= 5
