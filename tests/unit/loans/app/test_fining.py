"""Fines with fakes: charges by hand, payments and waivers with their audit trail, reading and listing."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest

from services.loans.app.fining import (
    AssessFine,
    GetFine,
    ListFines,
    PayFine,
    WaiveFine,
    assess_fine,
    get_fine,
    list_fines,
    pay_fine,
    waive_fine,
)
from services.loans.app.issuing import IssueLoan
from services.loans.domain.actors import SYSTEM
from services.loans.domain.fines import Fine, FineKind, FineStatus
from services.support.runtime.errors import FailedPrecondition, InvalidArgument, NotFound, PermissionDenied

from ..desk import ADMIN, CURRENCY, DESK, Desk, reader
from ..fakes import FakeLoansDatabase


async def charge(desk: Desk, patron: str = "users/p1", amount: str = "3.00", **more: object) -> Fine:
    more = {"actor": DESK, **more}
    command = AssessFine(patron, amount, FineKind.LOST_ITEM, **more)  # type: ignore[arg-type]
    return await assess_fine(command, uow=desk.uow(), clock=desk.clock, users=desk.users, currency=CURRENCY)


async def test_staff_charge_a_fine_once_per_request(db: FakeLoansDatabase, desk: Desk) -> None:
    request_id = uuid.uuid4()
    fine = await charge(desk, description="torn cover", request_id=request_id)
    again = await charge(desk, description="torn cover", request_id=request_id)
    assert again.id == fine.id and list(db.fines) == [fine.id]
    assert (fine.amount, fine.currency, fine.status) == (Decimal("3.00"), CURRENCY, FineStatus.OUTSTANDING)
    assert [entry.kind for entry in db.fine_entries[fine.id]] == ["ASSESSED"]
    assert db.event_types() == ["FineAssessed"]


@pytest.mark.parametrize(
    ("patron", "amount", "loan", "field"),
    [("p1", "3", "", "fine.patron"), ("users/p1", "-1", "", "fine.amount"), ("users/p1", "3", "x", "fine.loan")],
)
async def test_a_malformed_charge_names_its_field(desk: Desk, patron: str, amount: str, loan: str, field: str) -> None:
    with pytest.raises(InvalidArgument) as bad:
        await charge(desk, patron, amount, loan=loan)
    assert bad.value.violations[0].field == field


async def test_a_charge_for_an_unknown_loan_or_by_a_reader_is_refused(db: FakeLoansDatabase, desk: Desk) -> None:
    with pytest.raises(NotFound):
        await charge(desk, loan=f"loans/{uuid.uuid4()}")
    reader_charge = AssessFine("users/p1", "1.00", actor=reader("users/p1"))
    with pytest.raises(PermissionDenied):
        await assess_fine(reader_charge, uow=desk.uow(), clock=desk.clock, users=desk.users, currency=CURRENCY)
    assert db.fines == {}


async def test_payments_then_a_waiver_close_a_fine_with_an_audit_trail(db: FakeLoansDatabase, desk: Desk) -> None:
    fine = await charge(desk)
    paid = await pay_fine(PayFine(fine.id, "1.00", "cash", actor=DESK), uow=desk.uow(), clock=desk.clock)
    assert paid.outstanding == Decimal("2.00") and paid.version == 2
    with pytest.raises(InvalidArgument):
        await pay_fine(PayFine(fine.id, "2.01", actor=DESK), uow=desk.uow(), clock=desk.clock)
    waived = await waive_fine(WaiveFine(fine.id, "hardship", actor=DESK), uow=desk.uow(), clock=desk.clock)
    assert waived.status == FineStatus.WAIVED and waived.outstanding == Decimal("0.00")
    assert [(e.kind, e.amount) for e in db.fine_entries[fine.id]] == [
        ("ASSESSED", Decimal("3.00")),
        ("PAYMENT", Decimal("1.00")),
        ("WAIVER", Decimal("2.00")),
    ]
    with pytest.raises(FailedPrecondition) as closed:
        await pay_fine(PayFine(fine.id, "1.00", actor=DESK), uow=desk.uow(), clock=desk.clock)
    assert closed.value.reason == "FINE_NOT_OUTSTANDING"
    assert db.event_types() == ["FineAssessed", "FinePaid", "FineWaived"]


async def test_only_staff_take_payments_and_waive(desk: Desk) -> None:
    fine = await charge(desk)
    with pytest.raises(PermissionDenied):
        await pay_fine(PayFine(fine.id, "1.00", actor=reader("users/p1")), uow=desk.uow(), clock=desk.clock)
    with pytest.raises(PermissionDenied):
        await waive_fine(WaiveFine(fine.id, "please", actor=reader("users/p1")), uow=desk.uow(), clock=desk.clock)


async def test_staff_may_not_waive_their_own_fines_but_may_pay_them(db: FakeLoansDatabase, desk: Desk) -> None:
    """A librarian forgave a debt they owed themselves, unchecked (M3): another staff member waives it."""
    own, other = await charge(desk, DESK.user), await charge(desk, DESK.user)
    for actor in (DESK, ADMIN):
        mine = await charge(desk, actor.user)
        with pytest.raises(PermissionDenied) as refused:
            await waive_fine(WaiveFine(mine.id, "I say so", actor=actor), uow=desk.uow(), clock=desk.clock)
        assert refused.value.reason == "OWN_ACCOUNT" and db.fines[mine.id].status == FineStatus.OUTSTANDING
    waived = await waive_fine(WaiveFine(own.id, "hardship", actor=ADMIN), uow=desk.uow(), clock=desk.clock)
    assert waived.status == FineStatus.WAIVED
    paid = await pay_fine(PayFine(other.id, "3.00", "cash", actor=DESK), uow=desk.uow(), clock=desk.clock)
    assert paid.status == FineStatus.PAID  # paying one's own fine at the desk is what any reader does


async def test_a_reader_sees_their_own_fines_with_what_they_owe_in_all(desk: Desk) -> None:
    fines = [await charge(desk, amount=amount) for amount in ("1.00", "2.00", "4.00")]
    await charge(desk, "users/p2")
    await pay_fine(PayFine(fines[0].id, "1.00", actor=DESK), uow=desk.uow(), clock=desk.clock)
    assert (await get_fine(GetFine(fines[1].id, reader("users/p1")), uow=desk.uow())).id == fines[1].id
    with pytest.raises(PermissionDenied):
        await get_fine(GetFine(fines[1].id, reader("users/p2")), uow=desk.uow())
    first = await list_fines(ListFines(parent="users/me", page_size=2, actor=reader("users/p1")), uow=desk.uow())
    assert first.page.total_size == 3 and first.outstanding_total == Decimal("6.00") and first.page.next_page_token
    rest = ListFines(parent="users/me", page_size=2, page_token=first.page.next_page_token, actor=reader("users/p1"))
    second = await list_fines(rest, uow=desk.uow())
    assert len(first.page.items) + len(second.page.items) == 3 and not second.page.next_page_token
    paid = await list_fines(ListFines(status=FineStatus.PAID, actor=DESK), uow=desk.uow())
    assert [f.id for f in paid.page.items] == [fines[0].id] and paid.outstanding_total == Decimal("0.00")


@pytest.mark.parametrize("on_a_loan", [True, False])
async def test_an_overdue_fine_is_not_charged_by_hand(db: FakeLoansDatabase, desk: Desk, on_a_loan: bool) -> None:
    book, _ = desk.catalog.add_book()
    loan = await desk.issue(IssueLoan("users/p1", book=book, actor=DESK))
    command = AssessFine("users/p1", "1.00", FineKind.OVERDUE, loan=loan.name if on_a_loan else "", actor=DESK)
    for _ in range(2):  # the second loan-less one was a 500 (every loan-less OVERDUE row collided)
        with pytest.raises(InvalidArgument) as bad:
            await assess_fine(command, uow=desk.uow(), clock=desk.clock, users=desk.users, currency=CURRENCY)
        assert [v.field for v in bad.value.violations] == ["fine.kind"]
    assert db.fines == {}


async def test_a_charge_on_a_patron_users_does_not_know_is_not_found(db: FakeLoansDatabase, desk: Desk) -> None:
    with pytest.raises(NotFound):
        await charge(desk, "users/nobody")
    desk.users.blocked["users/p1"] = ("blocked: lost card",)
    assert (await charge(desk, "users/p1")).patron == "users/p1"  # a blocked patron still owes
    assert [fine.patron for fine in db.fines.values()] == ["users/p1"]


async def test_a_charge_on_a_closed_account_is_refused(db: FakeLoansDatabase, desk: Desk) -> None:
    """Closing required the account to owe nothing; a charge right after made it owe again, unseen (M7)."""
    desk.users.closed.add("users/p1")
    with pytest.raises(FailedPrecondition) as refused:
        await charge(desk, "users/p1")
    assert refused.value.reason == "ACCOUNT_CLOSED" and db.fines == {}


async def test_a_charge_on_another_patrons_loan_is_refused(db: FakeLoansDatabase, desk: Desk) -> None:
    book, _ = desk.catalog.add_book()
    loan = await desk.issue(IssueLoan("users/p2", book=book, actor=DESK))
    with pytest.raises(FailedPrecondition) as refused:
        await charge(desk, "users/p1", loan=loan.name)
    assert refused.value.reason == "LOAN_OF_ANOTHER_PATRON" and db.fines == {}
    assert (await charge(desk, "users/p2", loan=loan.name)).loan == loan.name


async def test_users_me_is_the_staff_member_who_charges(db: FakeLoansDatabase, desk: Desk) -> None:
    assert (await charge(desk, "users/me")).patron == DESK.user
    with pytest.raises(InvalidArgument) as bad:  # the system has no account of its own
        await charge(desk, "users/me", actor=SYSTEM)
    assert [v.field for v in bad.value.violations] == ["fine.patron"]
    assert [fine.patron for fine in db.fines.values()] == [DESK.user]
