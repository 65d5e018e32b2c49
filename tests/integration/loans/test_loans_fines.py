"""Fines against real Postgres: a charge by hand of kind OVERDUE, and the one overdue fine a loan may have."""

from __future__ import annotations

from decimal import Decimal

import pytest
from loans_world import CURRENCY, DESK, START, World

from services.loans.app.fining import AssessFine, assess_fine
from services.loans.app.issuing import IssueLoan
from services.loans.domain.fines import Fine, FineKind
from services.support.runtime.errors import AlreadyExists, InvalidArgument

pytestmark = pytest.mark.integration


async def test_loan_less_overdue_charges_by_hand_are_refused_by_name_every_time(world: World) -> None:
    for patron in ("users/p1", "users/p2"):  # the second was a 500: every loan-less OVERDUE row collided
        command = AssessFine(patron, "1.00", FineKind.OVERDUE, actor=DESK)
        with pytest.raises(InvalidArgument) as bad:
            await assess_fine(command, uow=world.uow(), clock=world.clock, users=world.users, currency=CURRENCY)
        assert [v.field for v in bad.value.violations] == ["fine.kind"]


async def test_a_second_overdue_fine_of_one_loan_is_already_exists_not_an_internal_error(world: World) -> None:
    book, _ = world.catalog.add_book()
    loan = await world.issue(IssueLoan("users/p1", book=book, actor=DESK))

    def overdue_fine() -> Fine:
        return Fine.assess(
            patron=loan.patron, kind=FineKind.OVERDUE, amount=Decimal("0.50"), currency=CURRENCY, now=START,
            actor="system", loan=loan.name,
        )  # fmt: skip

    async with world.uow() as uow:
        await uow.fines.add(overdue_fine())
        await uow.commit()
    async with world.uow() as uow:
        with pytest.raises(AlreadyExists) as taken:
            await uow.fines.add(overdue_fine())
    assert taken.value.reason == "OVERDUE_FINE_EXISTS"
