"""A waived overdue fine whose book is still out, on real Postgres: the later days are charged and owed (the
list's total, the fine limit), a returned loan keeps its overdue days and its fine; and migration 0010 keeps
what waivers from before it forgave, and names the overdue fine of loans returned before it."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa
from alembic import command
from loans_world import DESK, World

from services.loans.app.fining import ListFines, PayFine, WaiveFine, list_fines, pay_fine, waive_fine
from services.loans.app.issuing import IssueLoan
from services.loans.app.returning import ReturnLoan
from services.loans.data.tables import fines, loans
from services.loans.domain.calendar import NO_CLOSED_DAYS
from services.loans.domain.fines import Fine, FineStatus
from services.loans.domain.loans import Loan
from services.support.runtime.errors import FailedPrecondition
from services.support.runtime.migrations import alembic_config, upgrade_to_head

pytestmark = pytest.mark.integration
DAY = timedelta(days=1)
PATRONS = ("users/p1", "users/p2")


async def waived_at_six_days(world: World, patron: str = "users/p1") -> tuple[Loan, Fine]:
    """0.10 a day: a loan 6 days late, its 0.60 fine waived."""
    await world.set_default_rule(fine_per_day=Decimal("0.10"), fine_cap=Decimal("5.00"))
    book, _ = world.catalog.add_book()
    loan = await world.issue(IssueLoan(patron, book=book, actor=DESK))
    world.clock.advance(loan.due_at - world.clock.now() + 6 * DAY)  # type: ignore[operator]
    await world.reconcile()
    (fine,) = (await list_fines(ListFines(parent=patron, actor=DESK), uow=world.uow())).page.items
    waived = await waive_fine(WaiveFine(fine.id, "the holiday days", actor=DESK), uow=world.uow(), clock=world.clock)
    assert (waived.amount, waived.status, waived.outstanding) == (Decimal("0.60"), FineStatus.WAIVED, Decimal("0.00"))
    return loan, waived


async def test_the_days_after_a_waiver_are_owed_and_counted_against_the_fine_limit(world: World) -> None:
    loan, waived = await waived_at_six_days(world)
    world.clock.advance(10 * DAY)
    await world.reconcile()
    listing = await list_fines(ListFines(parent="users/p1", actor=DESK), uow=world.uow())
    (fine,) = listing.page.items
    assert (fine.id, fine.status, fine.amount) == (waived.id, FineStatus.OUTSTANDING, Decimal("1.60"))
    assert fine.waived == Decimal("0.60") and listing.outstanding_total == Decimal("1.00")
    returned = await world.return_loan(ReturnLoan(loan_id=loan.id, actor=DESK))
    async with world.uow() as uow:
        stored = await uow.loans.get(returned.id)
    assert (
        stored.overdue_days(world.clock.now() + 30 * DAY, world.policy.time_zone, closed=NO_CLOSED_DAYS),
        stored.fine,
    ) == (16, fine.name)
    book, _ = world.catalog.add_book()
    await world.set_default_rule(max_outstanding_fines=Decimal("0.90"))  # owes 1.00 (1.60 less 0.60 forgiven)
    with pytest.raises(FailedPrecondition) as refused:
        await world.issue(IssueLoan("users/p1", book=book, actor=DESK))
    assert refused.value.reason == "FINES_LIMIT_EXCEEDED"
    await world.set_default_rule(max_outstanding_fines=Decimal("1.20"))
    assert (await world.issue(IssueLoan("users/p1", book=book, actor=DESK))).patron == "users/p1"


async def test_migration_0010_keeps_what_earlier_waivers_forgave_and_names_returned_loans_fines(world: World) -> None:
    """Rows written by this release, taken down to 0009 (as an older release left them) and up again."""
    await world.set_default_rule(fine_per_day=Decimal("0.10"), fine_cap=Decimal("5.00"))
    out, back = [await world.issue(IssueLoan(p, book=world.catalog.add_book()[0], actor=DESK)) for p in PATRONS]
    world.clock.advance(out.due_at - world.clock.now() + 6 * DAY)  # type: ignore[operator]
    await world.reconcile()
    by_patron = {f.patron: f for f in (await list_fines(ListFines(actor=DESK), uow=world.uow())).page.items}
    waived, charged = by_patron["users/p1"], by_patron["users/p2"]
    await pay_fine(PayFine(waived.id, "0.40", actor=DESK), uow=world.uow(), clock=world.clock)
    await waive_fine(WaiveFine(waived.id, "the rest", actor=DESK), uow=world.uow(), clock=world.clock)
    await world.return_loan(ReturnLoan(loan_id=back.id, actor=DESK))
    url = world.engine.url.render_as_string(hide_password=False)
    await world.engine.dispose()
    await asyncio.to_thread(command.downgrade, alembic_config("loans", url), "0009")
    await asyncio.to_thread(upgrade_to_head, "loans", url)
    for fine, forgiven in ((waived, "0.20"), (charged, "0.00")):
        assert await world.scalar(sa.select(fines.c.waived).where(fines.c.id == fine.id)) == Decimal(forgiven)
    for loan, named in ((out, ""), (back, charged.name)):
        assert await world.scalar(sa.select(loans.c.fine).where(loans.c.id == loan.id)) == named
    async with world.uow() as uow:
        legacy = await uow.loans.get(back.id)
    assert (
        legacy.returned_overdue_days is None
        and legacy.overdue_days(world.clock.now(), world.policy.time_zone, closed=NO_CLOSED_DAYS) == 6
    )
    world.clock.advance(10 * DAY)  # the loan still out owes the days after the waiver
    await world.reconcile()
    async with world.uow() as uow:
        fine = await uow.fines.get(waived.id)
    assert (fine.status, fine.amount, fine.paid, fine.waived) == (
        FineStatus.OUTSTANDING, Decimal("1.60"), Decimal("0.40"), Decimal("0.20")
    )  # fmt: skip
    assert fine.outstanding == Decimal("1.00")
