"""Returns, fines, renewals, holds and the rules matrix against real Postgres with in-memory peers."""

from __future__ import annotations

import uuid
from datetime import UTC, timedelta
from decimal import Decimal

import pytest
from loans_world import ADMIN, DESK, START, World
from unit.loans.desk import Crash, crash_after_check_in

from services.loans.app.fining import ListFines, PayFine, WaiveFine, list_fines, pay_fine, waive_fine
from services.loans.app.holding import CancelHold, GetHold, PlaceHold, get_hold
from services.loans.app.issuing import IssueLoan
from services.loans.app.renewing import RenewLoan
from services.loans.app.returning import ReturnLoan
from services.loans.app.rule_matrix import (
    CreateCirculationRule,
    DeleteCirculationRule,
    ListCirculationRules,
    UpdateCirculationRule,
    create_circulation_rule,
    delete_circulation_rule,
    list_circulation_rules,
    update_circulation_rule,
)
from services.loans.app.viewing import GetLoan, ListLoans, get_loan, list_loans
from services.loans.domain.actors import Actor
from services.loans.domain.fines import FineStatus
from services.loans.domain.hold_record import HoldStatus
from services.loans.domain.loan_record import LoanStatus
from services.loans.domain.periods import end_of_day_after
from services.loans.domain.rules import RuleTerms
from services.support.runtime.errors import AlreadyExists, FailedPrecondition, NotFound, PermissionDenied
from services.support.runtime.identity import Role

pytestmark = pytest.mark.integration
DAY = timedelta(days=1)


async def lend(world: World, patron: str, book: str):
    return await world.issue(IssueLoan(patron, book=book, actor=DESK))


async def give_back(world: World, loan_id: uuid.UUID, request_id: uuid.UUID | None = None):
    return await world.return_loan(ReturnLoan(loan_id=loan_id, request_id=request_id, actor=DESK))


async def fines_owed(world: World) -> list[Decimal]:
    return sorted(fine.amount for fine in (await list_fines(ListFines(actor=DESK), uow=world.uow())).page.items)


async def hold_for(world: World, patron: str, book: str):
    return await world.place_hold(PlaceHold(patron, book, actor=DESK))


async def test_a_late_return_assesses_a_capped_fine_and_twice_is_refused(world: World) -> None:
    await world.set_default_rule(
        loan_period_days=7, fine_per_day=Decimal("0.30"), grace_days=2, fine_cap=Decimal("2.00")
    )
    book, (copy,) = world.catalog.add_book()
    loan = await lend(world, "users/p1", book)
    world.clock.advance(7 * DAY + 5 * DAY)  # 5 days late, 2 of grace: 3 chargeable days
    request_id = uuid.uuid4()
    returned = await give_back(world, loan.id, request_id)
    assert returned.status == LoanStatus.RETURNED and world.catalog.status(copy) == "AVAILABLE"
    listing = await list_fines(ListFines(parent="users/p1", actor=DESK), uow=world.uow())
    assert [f.amount for f in listing.page.items] == [Decimal("0.90")]
    assert listing.outstanding_total == Decimal("0.90")
    assert (await give_back(world, loan.id, request_id)).id == loan.id  # a retry is answered, not repeated
    with pytest.raises(FailedPrecondition) as twice:
        await give_back(world, loan.id)
    assert twice.value.reason == "LOAN_ALREADY_RETURNED"
    assert sorted(await world.subjects()) == ["fine_assessed", "loan_issued", "loan_returned"]


async def test_fines_accrue_daily_until_the_cap_then_are_paid_and_waived_with_an_audit_trail(world: World) -> None:
    await world.set_default_rule(loan_period_days=1, fine_per_day=Decimal("1.00"), fine_cap=Decimal("3.00"))
    book, _ = world.catalog.add_book(copies=2)
    loan = await lend(world, "users/p1", book)
    for days, expected in ((1, "1.00"), (2, "2.00"), (10, "3.00")):
        world.clock.advance(-(world.clock.now() - loan.issued_at) + (1 + days) * DAY)  # type: ignore[operator]
        report = await world.reconcile()
        assert report.overdue_loans == 1
        page = (await list_fines(ListFines(actor=DESK), uow=world.uow())).page
        assert page.items[0].amount == Decimal(expected)
    fine = page.items[0]
    paid = await pay_fine(PayFine(fine.id, "1.00", "cash", actor=DESK), uow=world.uow(), clock=world.clock)
    assert paid.outstanding == Decimal("2.00") and paid.status == FineStatus.OUTSTANDING
    waived = await waive_fine(WaiveFine(fine.id, "hardship", actor=DESK), uow=world.uow(), clock=world.clock)
    assert waived.status == FineStatus.WAIVED and waived.outstanding == Decimal("0.00")
    async with world.uow() as uow:
        trail = [(e.kind, e.amount) for e in await uow.fines.entries(fine.id)]
    assert trail == [
        ("ASSESSED", Decimal("1.00")),
        ("ACCRUED", Decimal("1.00")),
        ("ACCRUED", Decimal("1.00")),
        ("PAYMENT", Decimal("1.00")),
        ("WAIVER", Decimal("2.00")),
    ]
    subjects = await world.subjects()
    assert subjects.count("loan_overdue") == 2 and "fine_paid" in subjects and "fine_waived" in subjects


async def test_renewal_is_refused_while_another_patron_waits_and_for_another_readers_loan(world: World) -> None:
    book, _ = world.catalog.add_book()
    loan = await lend(world, "users/p1", book)
    with pytest.raises(PermissionDenied):
        await world.renew(RenewLoan(loan.id, actor=Actor("users/p2", Role.READER)))
    renewed = await world.renew(RenewLoan(loan.id, actor=Actor("users/p1", Role.READER)))
    assert renewed.renewal_count == 1
    await hold_for(world, "users/p2", book)
    with pytest.raises(FailedPrecondition) as refused:
        await world.renew(RenewLoan(loan.id, actor=DESK))
    assert refused.value.reason == "HOLDS_WAITING"


async def test_a_return_traps_the_copy_for_the_next_hold_who_then_borrows_it(world: World) -> None:
    book, (copy,) = world.catalog.add_book()
    loan = await lend(world, "users/p1", book)
    first = await hold_for(world, "users/p2", book)
    second = await hold_for(world, "users/p3", book)
    assert (first.status, first.queue_position, second.queue_position) == (HoldStatus.WAITING, 1, 2)
    with pytest.raises(AlreadyExists):
        await hold_for(world, "users/p2", book)
    await give_back(world, loan.id)
    ready = await get_hold(GetHold(first.id, DESK), uow=world.uow())
    assert ready.status == HoldStatus.READY and ready.copy == copy
    assert world.catalog.status(copy) == "ON_HOLD_SHELF"
    with pytest.raises(FailedPrecondition):  # the shelf copy is not for p3
        await lend(world, "users/p3", book)
    borrowed = await lend(world, "users/p2", book)
    assert borrowed.copy == copy and borrowed.hold == first.name
    fulfilled = await get_hold(GetHold(first.id, DESK), uow=world.uow())
    assert fulfilled.status == HoldStatus.FULFILLED and fulfilled.loan == borrowed.name
    assert (await get_hold(GetHold(second.id, DESK), uow=world.uow())).queue_position == 1


async def test_by_barcode_the_held_copy_goes_to_its_reader_and_an_unknown_barcode_leaves_no_loan(
    world: World,
) -> None:
    """Standing counts the reader's holds with a copy set aside (READY, or IN_TRANSIT as here: on the pull list),
    so the copy is looked up first (the catalog lends a held copy only to its hold); a barcode no copy has is
    NotFound, with no loan left behind."""
    book, (copy,) = world.catalog.add_book()
    hold = await hold_for(world, "users/p1", book)
    assert hold.status == HoldStatus.IN_TRANSIT
    borrowed = await world.issue(IssueLoan("users/p1", barcode=world.catalog.barcode(copy), actor=DESK))
    assert (borrowed.copy, borrowed.hold, borrowed.book) == (copy, hold.name, book)
    assert (await get_hold(GetHold(hold.id, DESK), uow=world.uow())).status == HoldStatus.FULFILLED
    with pytest.raises(NotFound):
        await world.issue(IssueLoan("users/p2", barcode="NO-SUCH-COPY", actor=DESK))
    listing = await list_loans(ListLoans(actor=ADMIN), uow=world.uow(), clock=world.clock)
    assert [loan.id for loan in listing.items] == [borrowed.id]


async def test_an_uncollected_hold_expires_and_the_copy_goes_to_the_next_in_queue(world: World) -> None:
    await world.set_default_rule(hold_pickup_days=3)
    book, (copy,) = world.catalog.add_book()
    loan = await lend(world, "users/p1", book)
    first = await hold_for(world, "users/p2", book)
    second = await hold_for(world, "users/p3", book)
    await give_back(world, loan.id)
    world.clock.advance(3 * DAY)  # the third day after has not ended: the hold waits to its end
    assert (await world.reconcile()).holds_expired == 0
    world.clock.advance(DAY)
    report = await world.reconcile()
    assert report.holds_expired == 1
    assert (await get_hold(GetHold(first.id, DESK), uow=world.uow())).status == HoldStatus.EXPIRED
    passed_on = await get_hold(GetHold(second.id, DESK), uow=world.uow())
    assert passed_on.status == HoldStatus.IN_TRANSIT and world.catalog.copies[copy].current_hold == second.name
    assert (await world.subjects()).count("hold_ready") == 1  # relabelled for the next: not on its shelf yet
    assert (await world.receive(copy)).status == HoldStatus.READY
    subjects = await world.subjects()
    assert subjects.count("hold_ready") == 2 and "hold_expired" in subjects


async def test_a_hold_is_in_transit_at_once_when_a_copy_is_free_and_cancelling_frees_it(world: World) -> None:
    book, (copy,) = world.catalog.add_book()
    hold = await hold_for(world, "users/p1", book)
    assert hold.status == HoldStatus.IN_TRANSIT and world.catalog.copies[copy].current_hold == hold.name
    assert "hold_ready" not in await world.subjects()
    cancelled = await world.cancel_hold(CancelHold(hold.id, "no longer needed", actor=Actor("users/p1", Role.READER)))
    assert cancelled.status == HoldStatus.CANCELLED and world.catalog.status(copy) == "AVAILABLE"


async def test_holds_follow_the_rule_limits(world: World) -> None:
    await world.set_default_rule(max_holds=1)
    first, _ = world.catalog.add_book()
    second, _ = world.catalog.add_book()
    await hold_for(world, "users/p1", first)
    with pytest.raises(FailedPrecondition) as limit:
        await hold_for(world, "users/p1", second)
    assert limit.value.reason == "HOLD_LIMIT_REACHED"
    await world.set_default_rule(holds_allowed=False)
    with pytest.raises(FailedPrecondition) as closed:
        await hold_for(world, "users/p2", second)
    assert closed.value.reason == "HOLDS_NOT_ALLOWED"


async def test_rule_changes_apply_to_new_loans_and_the_most_specific_rule_governs(world: World) -> None:
    async def create(terms: RuleTerms, actor: Actor):
        command = CreateCirculationRule(terms, actor=actor)
        return await create_circulation_rule(command, uow=world.uow(), clock=world.clock, catalog=world.catalog)

    async def listed(category: str, item_type: str):
        return await list_circulation_rules(ListCirculationRules(category, item_type), uow=world.uow())

    child_dvd = await create(RuleTerms("CHILD", "DVD", loan_period_days=3), ADMIN)
    with pytest.raises(AlreadyExists):
        await create(RuleTerms("child", "dvd"), ADMIN)
    with pytest.raises(PermissionDenied):
        await create(RuleTerms("ADULT", "DVD"), DESK)
    dvd, _ = world.catalog.add_book(item_type="DVD", copies=2)
    world.users.categories["users/kid"] = "CHILD"
    before = await lend(world, "users/kid", dvd)
    assert before.due_at == end_of_day_after(START, 3, UTC) and before.rule == child_dvd.name
    change = UpdateCirculationRule(
        child_dvd.id, RuleTerms("", "", loan_period_days=5), ("loan_period_days",), etag=child_dvd.etag, actor=ADMIN
    )
    updated = await update_circulation_rule(change, uow=world.uow(), clock=world.clock, catalog=world.catalog)
    assert updated.terms.loan_period_days == 5 and updated.terms.item_type == "DVD"
    after = await lend(world, "users/kid", dvd)
    assert after.due_at == end_of_day_after(START, 5, UTC)
    assert (await get_loan(GetLoan(before.id, DESK), uow=world.uow())).due_at == before.due_at
    rules = await listed("CHILD", "BOOK")
    assert rules.total_size == 1 and rules.items[0].terms.patron_category == "*"
    default = next(r for r in (await listed("", "")).items if r.is_default)
    with pytest.raises(FailedPrecondition):
        command = DeleteCirculationRule(default.id, actor=ADMIN)
        await delete_circulation_rule(command, uow=world.uow(), clock=world.clock)


async def test_loans_are_listed_newest_first_page_by_page_and_readers_see_only_their_own(world: World) -> None:
    book, _ = world.catalog.add_book(copies=5)
    made = []
    for _ in range(5):
        made.append(await lend(world, "users/p1", book))
        world.clock.advance(timedelta(seconds=1))
    seen, token = [], ""
    while True:
        page = await list_loans(
            ListLoans(parent="users/p1", page_size=2, page_token=token, actor=DESK), uow=world.uow(), clock=world.clock
        )
        seen += [loan.id for loan in page.items]
        token = page.next_page_token
        if not token:
            break
    assert seen == [loan.id for loan in reversed(made)] and page.total_size == 5
    reader = Actor("users/p2", Role.READER)
    with pytest.raises(PermissionDenied):
        await list_loans(ListLoans(parent="users/p1", actor=reader), uow=world.uow(), clock=world.clock)
    with pytest.raises(PermissionDenied):
        await get_loan(GetLoan(made[0].id, reader), uow=world.uow())
    world.clock.advance(30 * DAY)
    overdue = await list_loans(ListLoans(overdue_only=True, actor=DESK), uow=world.uow(), clock=world.clock)
    assert overdue.total_size == 5


async def test_a_return_interrupted_after_the_catalog_step_is_finished_by_the_next_issue_or_the_reconciler(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The return saga's note on real Postgres: the next issue of the copy finishes one interrupted return,
    the reconciler another; the overdue pass leaves a loan alone while its return is under way."""
    await world.set_default_rule(loan_period_days=3, fine_per_day=Decimal("1.00"))
    book, copies = world.catalog.add_book(copies=2)
    first, second = await lend(world, "users/p1", book), await lend(world, "users/p2", book)
    world.clock.advance(5 * DAY)
    crash_after_check_in(world.catalog, monkeypatch)
    for loan in (first, second):
        with pytest.raises(Crash):
            await give_back(world, loan.id)
    monkeypatch.undo()
    assert [world.catalog.status(copy) for copy in copies] == ["AVAILABLE", "AVAILABLE"]
    assert (await world.reconcile()).overdue_loans == 0 and await fines_owed(world) == []

    again = await lend(world, "users/p3", book)
    assert again.status == LoanStatus.ACTIVE and again.copy == first.copy
    assert (await get_loan(GetLoan(first.id, DESK), uow=world.uow())).status == LoanStatus.RETURNED
    world.clock.advance(world.reconcile_policy.saga_timeout + timedelta(seconds=1))
    assert (await world.reconcile()).returns_settled == 1
    closed = await get_loan(GetLoan(second.id, DESK), uow=world.uow())
    assert closed.status == LoanStatus.RETURNED and closed.returned_at == START + 5 * DAY
    assert await fines_owed(world) == [Decimal("2.00"), Decimal("2.00")]


async def test_the_default_rule_counts_only_the_loans_of_types_without_a_rule_of_their_own(world: World) -> None:
    """Against Postgres: two DVDs out under a DVD rule of their own leave the `*` rule's limit to the books."""
    command = CreateCirculationRule(RuleTerms("*", "DVD", max_loans=2), actor=ADMIN)
    await create_circulation_rule(command, uow=world.uow(), clock=world.clock, catalog=world.catalog)
    dvd, _ = world.catalog.add_book(item_type="DVD", copies=2)
    for _ in range(2):
        await lend(world, "users/films", dvd)
    standing = await standing_of(world, "users/films", besides=("DVD",))
    assert (standing.active_loans, (await standing_of(world, "users/films")).active_loans) == (0, 2)


async def standing_of(world: World, patron: str, besides: tuple[str, ...] = ()):
    async with world.uow() as uow:
        return await uow.loans.standing(patron, item_type="*", now=world.clock.now(), besides=besides)
