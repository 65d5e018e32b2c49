"""Charging an account as it is closed (finding NF3): the users service asks for the patron's standing, then
commits the close; a charge asks about the account, then commits. Each could pass the other's check and leave a
closed account owing. The close's question now holds the patron's charges for a moment, under the patron's lock
a charge takes too; a charge that asked about the account while a hold could still end in a close is refused,
to retry, and the retry sees the close."""

from __future__ import annotations

import asyncio
import contextlib
import random
from datetime import timedelta
from decimal import Decimal

import pytest

from services.loans.app.closing import CHARGES_HELD, GetClosingStanding, closing_standing
from services.loans.app.fining import AssessFine, assess_fine
from services.loans.domain.borrowing import Eligibility
from services.loans.domain.fines import FineKind, FineStatus
from services.support.runtime.errors import DependencyUnavailable, FailedPrecondition

from ..desk import CURRENCY, DESK, Desk
from ..fake_peers import FakeUsers
from ..fakes import FakeLoansDatabase

PATRON = "users/p1"


async def charge(desk: Desk, amount: str = "3.00") -> object:
    command = AssessFine(PATRON, amount, FineKind.OTHER, actor=DESK)
    return await assess_fine(command, uow=desk.uow(), clock=desk.clock, users=desk.users, currency=CURRENCY)


async def ask_to_close(desk: Desk):  # type: ignore[no-untyped-def]
    return await closing_standing(GetClosingStanding(PATRON), uow=desk.uow(), clock=desk.clock)


def owed(db: FakeLoansDatabase) -> list[Decimal]:
    return [fine.outstanding for fine in db.fines.values() if fine.status == FineStatus.OUTSTANDING]


async def test_the_close_s_question_holds_charges_when_nothing_is_owed_until_the_close_is_settled(
    db: FakeLoansDatabase, desk: Desk
) -> None:
    standing = await ask_to_close(desk)
    assert (standing.loans_out, standing.fines_outstanding, standing.charges_held_for) == (0, 0, CHARGES_HELD)
    with pytest.raises(DependencyUnavailable) as held:
        await charge(desk)
    assert held.value.reason == "ACCOUNT_CLOSING" and held.value.retry_after
    desk.users.closed.add(PATRON)  # the users service committed the close meanwhile
    desk.clock.advance(CHARGES_HELD + timedelta(seconds=1))
    with pytest.raises(FailedPrecondition) as closed:
        await charge(desk)
    assert closed.value.reason == "ACCOUNT_CLOSED" and owed(db) == []


async def test_a_close_refused_for_what_is_owed_holds_no_charge(db: FakeLoansDatabase, desk: Desk) -> None:
    await charge(desk, "2.50")
    standing = await ask_to_close(desk)
    assert (standing.loans_out, standing.fines_outstanding, standing.amount_owed) == (0, 1, Decimal("2.50"))
    assert not standing.charges_held_for  # the close is refused: the desk may charge at once
    await charge(desk, "1.00")
    assert sorted(owed(db)) == [Decimal("1.00"), Decimal("2.50")]


async def test_a_close_that_did_not_happen_holds_charges_only_a_moment(db: FakeLoansDatabase, desk: Desk) -> None:
    await ask_to_close(desk)  # then refused, or abandoned, by the users service
    desk.clock.advance(CHARGES_HELD + timedelta(seconds=1))
    await charge(desk)
    assert owed(db) == [Decimal("3.00")]


class _SlowUsers(FakeUsers):
    """The account's answer takes `takes` (the desk's clock moves on meanwhile)."""

    def __init__(self, desk: Desk, takes: timedelta) -> None:
        super().__init__()
        self._desk, self._takes = desk, takes

    async def account(self, patron: str) -> Eligibility:
        answer = await super().account(patron)
        self._desk.clock.advance(self._takes)
        return answer


async def test_a_charge_that_asked_about_the_account_while_a_close_could_be_committed_is_refused_after_the_hold(
    db: FakeLoansDatabase, desk: Desk
) -> None:
    """The account was open when asked; the close may have been committed after that answer and before the hold
    ended: the charge is refused even though the hold is over by its commit, and its retry asks again."""
    await ask_to_close(desk)
    desk.clock.advance(CHARGES_HELD / 2)
    desk.users = _SlowUsers(desk, CHARGES_HELD)
    with pytest.raises(DependencyUnavailable) as held:
        await charge(desk)
    assert held.value.reason == "ACCOUNT_CLOSING" and owed(db) == []


async def test_a_close_and_a_charge_at_the_same_moment_never_leave_a_closed_account_owing(
    db: FakeLoansDatabase, desk: Desk
) -> None:
    """Many tries, the close's steps and the charge's interleaved at random; the users service commits the close
    within the hold when nothing is owed, as delete_user does."""
    closed_owing = 0
    for _ in range(60):
        db.fines.clear()
        db.charges_held.clear()
        desk.users.closed.clear()
        desk.clock.advance(CHARGES_HELD * 2)

        async def close() -> None:
            await asyncio.sleep(random.random() / 500)
            standing = await ask_to_close(desk)
            await asyncio.sleep(random.random() / 500)
            if not standing.fines_outstanding:
                desk.users.closed.add(PATRON)

        async def charge_at_once() -> None:
            await asyncio.sleep(random.random() / 500)
            with contextlib.suppress(DependencyUnavailable, FailedPrecondition):
                await charge(desk)

        await asyncio.gather(close(), charge_at_once())
        closed_owing += PATRON in desk.users.closed and bool(owed(db))
    assert closed_owing == 0
