"""A close's question and a charge at the same moment, against a real Postgres (finding NF3): the patron's lock
and the hold on their charges serialise the two, so a closed account is never left owing, however the steps of
the two fall (the users service commits the close within the hold, when nothing is owed)."""

from __future__ import annotations

import asyncio
import contextlib
import random
import uuid

import pytest
import sqlalchemy as sa
from loans_world import CURRENCY, DESK, World

from services.loans.app.closing import GetClosingStanding, closing_standing
from services.loans.app.fining import AssessFine, assess_fine
from services.loans.data.tables import fines
from services.loans.domain.fines import FineKind
from services.support.runtime.errors import DependencyUnavailable, FailedPrecondition

pytestmark = pytest.mark.integration
TRIES = 30


async def test_a_close_and_a_charge_at_the_same_moment_never_leave_a_closed_account_owing(world: World) -> None:
    closed_owing = []
    for attempt in range(TRIES):
        patron = f"users/{uuid.uuid4()}"

        async def close(patron: str = patron) -> None:
            await asyncio.sleep(random.random() / 100)
            standing = await closing_standing(GetClosingStanding(patron), uow=world.uow(), clock=world.clock)
            if not (standing.fines_outstanding or standing.loans_out):
                world.users.closed.add(patron)  # committed within the hold, as delete_user does

        async def charge(patron: str = patron) -> None:
            await asyncio.sleep(random.random() / 100)
            command = AssessFine(patron, "3.00", FineKind.OTHER, actor=DESK)
            with contextlib.suppress(DependencyUnavailable, FailedPrecondition):  # ACCOUNT_CLOSING, ACCOUNT_CLOSED
                await assess_fine(command, uow=world.uow(), clock=world.clock, users=world.users, currency=CURRENCY)

        await asyncio.gather(close(), charge())
        charged = await world.scalar(sa.select(sa.func.count()).select_from(fines).where(fines.c.patron == patron))
        if patron in world.users.closed and charged:
            closed_owing.append(attempt)
    assert closed_owing == []
