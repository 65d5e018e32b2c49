"""A rule's hard due date against real Postgres: one stored in year 1 (read back naive, as datetime.min) or
passed since lends nothing, and the copy goes back to the shelf."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from loans_world import DESK, START, World

from services.loans.app.issuing import IssueLoan
from services.loans.data.tables import loans
from services.loans.domain.loan_record import LoanStatus
from services.support.runtime.errors import FailedPrecondition

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("hard_due_at", [datetime(1, 1, 1, tzinfo=UTC), START - timedelta(days=10)])
async def test_an_issue_under_a_stored_hard_due_date_that_has_passed_is_refused(
    world: World, hard_due_at: datetime
) -> None:
    await world.set_default_rule(hard_due_at=hard_due_at)  # stored before hard due dates were checked
    book, (copy,) = world.catalog.add_book()
    with pytest.raises(FailedPrecondition) as refused:
        await world.issue(IssueLoan("users/p1", book=book, actor=DESK))
    assert refused.value.reason == "HARD_DUE_DATE_PASSED"
    assert world.catalog.status(copy) == "AVAILABLE"
    assert await world.scalar(sa.select(sa.func.array_agg(loans.c.status))) == [LoanStatus.FAILED.value]
