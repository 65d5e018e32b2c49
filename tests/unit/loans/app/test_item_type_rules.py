"""The rules of an item type in circulation: a type not for loan (reference copies) or not for holds is
never picked by an issue by book nor put on the hold shelf, and a hold no copy of the title may serve is
refused; an item type's own hold limit and pickup window apply."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, datetime

import pytest

from services.loans.app.holding import PlaceHold
from services.loans.app.issuing import IssueLoan
from services.loans.app.returning import ReturnLoan
from services.loans.domain.borrowing import CopyInfo
from services.loans.domain.hold_record import HoldStatus
from services.loans.domain.loan_record import LoanStatus
from services.loans.domain.patrons import PatronRecord
from services.loans.domain.rules import CirculationRule, RuleTerms
from services.support.runtime.errors import FailedPrecondition

from ..desk import DESK, NOW, Desk
from ..fake_peers import FakeCatalog
from ..fakes import FakeLoansDatabase

REFERENCE = {"max_loans": 0, "holds_allowed": False, "max_holds": 0, "hold_pickup_days": 1}
"""The findings' REFERENCE rule: for use in the library only."""


def add_rule(db: FakeLoansDatabase, category: str, item_type: str, **terms: object) -> None:
    rule = CirculationRule.create(RuleTerms(category, item_type, **terms), now=NOW)  # type: ignore[arg-type]
    db.rules[rule.id] = rule


def add_copy(catalog: FakeCatalog, book: str, item_type: str) -> str:
    name = f"{book}/copies/{uuid.uuid4()}"
    catalog.copies[name] = CopyInfo(name, book, f"BC-{uuid.uuid4().hex[:10]}", item_type, "AVAILABLE")
    return name


async def test_an_issue_by_book_lends_a_copy_of_a_type_the_patron_may_borrow(db: FakeLoansDatabase, desk: Desk) -> None:
    add_rule(db, "*", "REFERENCE", **REFERENCE)
    book, (reference,) = desk.catalog.add_book(item_type="REFERENCE")  # the copy the catalog would take first
    lendable = add_copy(desk.catalog, book, "BOOK")
    loan = await desk.issue(IssueLoan("users/p1", book=book, actor=DESK))
    assert (loan.status, loan.copy, loan.item_type) == (LoanStatus.ACTIVE, lendable, "BOOK")
    assert desk.catalog.status(reference) == "AVAILABLE" and desk.catalog.check_outs == 1


async def test_an_issue_by_book_of_reference_copies_only_finds_none_to_lend(db: FakeLoansDatabase, desk: Desk) -> None:
    add_rule(db, "*", "REFERENCE", **REFERENCE)
    book, (reference,) = desk.catalog.add_book(item_type="REFERENCE")
    with pytest.raises(FailedPrecondition) as refused:
        await desk.issue(IssueLoan("users/p1", book=book, actor=DESK))
    assert refused.value.reason == "NO_COPY_AVAILABLE"
    assert desk.catalog.status(reference) == "AVAILABLE" and desk.catalog.check_outs == 0


async def test_a_reference_copy_at_the_desk_is_said_to_be_not_for_loan(db: FakeLoansDatabase, desk: Desk) -> None:
    add_rule(db, "*", "REFERENCE", **REFERENCE)
    _book, (reference,) = desk.catalog.add_book(item_type="REFERENCE")
    with pytest.raises(FailedPrecondition) as refused:
        await desk.issue(IssueLoan("users/p1", barcode=desk.catalog.barcode(reference), actor=DESK))
    assert refused.value.reason == "NOT_FOR_LOAN"
    assert "REFERENCE items are not for loan to ADULT patrons" in refused.value.message
    assert desk.catalog.status(reference) == "AVAILABLE"


async def test_a_category_that_may_borrow_nothing_is_told_so_by_book(db: FakeLoansDatabase, desk: Desk) -> None:
    add_rule(db, "VISITOR", "*", max_loans=0)
    desk.users.categories["users/v1"] = "VISITOR"
    book, _ = desk.catalog.add_book()
    with pytest.raises(FailedPrecondition) as refused:
        await desk.issue(IssueLoan("users/v1", book=book, actor=DESK))
    assert refused.value.reason == "NOT_FOR_LOAN" and desk.catalog.check_outs == 0


async def test_a_category_lent_one_item_type_only_borrows_it_by_book(db: FakeLoansDatabase, desk: Desk) -> None:
    add_rule(db, "VISITOR", "*", max_loans=0)
    add_rule(db, "VISITOR", "PAPERBACK", max_loans=1)
    desk.users.categories["users/v1"] = "VISITOR"
    book, _ = desk.catalog.add_book()
    paperback = add_copy(desk.catalog, book, "PAPERBACK")
    loan = await desk.issue(IssueLoan("users/v1", book=book, actor=DESK))
    assert loan.copy == paperback


async def test_a_hold_on_a_title_of_reference_copies_only_is_refused(db: FakeLoansDatabase, desk: Desk) -> None:
    add_rule(db, "*", "REFERENCE", **REFERENCE)
    book, (reference,) = desk.catalog.add_book(item_type="REFERENCE")
    with pytest.raises(FailedPrecondition) as refused:
        await desk.place_hold(PlaceHold("users/p1", book, actor=DESK))
    assert refused.value.reason == "HOLDS_NOT_ALLOWED" and "REFERENCE" in refused.value.message
    assert desk.catalog.status(reference) == "AVAILABLE" and db.holds == {}


def add_reference_copy(catalog: FakeCatalog, book: str, item_type: str = "REFERENCE") -> str:
    """A copy of an item type not for loan in the catalog's list (whatever the circulation rules say of it)."""
    name = add_copy(catalog, book, item_type)
    catalog.copies[name] = dataclasses.replace(catalog.copies[name], not_for_loan=True)
    return name


async def test_a_hold_on_a_title_whose_only_copies_are_not_for_loan_is_refused_whatever_the_rules(
    db: FakeLoansDatabase, desk: Desk
) -> None:
    book, _ = desk.catalog.add_book(copies=0)
    reference = add_reference_copy(desk.catalog, book)  # no rule names REFERENCE: the "*" row allows holds
    add_reference_copy(desk.catalog, book, "ATLAS")
    with pytest.raises(FailedPrecondition) as refused:
        await desk.place_hold(PlaceHold("users/p1", book, actor=DESK))
    assert refused.value.reason == "HOLDS_NOT_ALLOWED"
    assert "only reference copies (ATLAS, REFERENCE" in refused.value.message
    assert desk.catalog.status(reference) == "AVAILABLE" and db.holds == {}


async def test_a_title_with_a_lendable_copy_besides_its_reference_ones_takes_holds(
    db: FakeLoansDatabase, desk: Desk
) -> None:
    book, (lendable,) = desk.catalog.add_book()
    reference = add_reference_copy(desk.catalog, book)
    lent = await desk.issue(IssueLoan("users/p1", barcode=desk.catalog.barcode(lendable), actor=DESK))
    hold = await desk.place_hold(PlaceHold("users/p2", book, actor=DESK))
    assert hold.status == HoldStatus.WAITING and desk.catalog.status(reference) == "AVAILABLE"
    await desk.return_loan(ReturnLoan(loan_id=lent.id, actor=DESK))
    assert db.holds[hold.id].status == HoldStatus.READY and db.holds[hold.id].copy == lendable


async def test_a_title_with_no_copies_yet_still_takes_holds(db: FakeLoansDatabase, desk: Desk) -> None:
    book, _ = desk.catalog.add_book(copies=0)
    hold = await desk.place_hold(PlaceHold("users/p1", book, actor=DESK))
    assert hold.status == HoldStatus.WAITING


async def test_a_reference_copy_is_never_trapped_for_a_hold_on_its_title(db: FakeLoansDatabase, desk: Desk) -> None:
    add_rule(db, "*", "REFERENCE", **REFERENCE)
    book, (reference,) = desk.catalog.add_book(item_type="REFERENCE")
    lendable = add_copy(desk.catalog, book, "BOOK")
    lent = await desk.issue(IssueLoan("users/p1", barcode=desk.catalog.barcode(lendable), actor=DESK))
    hold = await desk.place_hold(PlaceHold("users/p2", book, actor=DESK))
    assert hold.status == HoldStatus.WAITING and desk.catalog.status(reference) == "AVAILABLE"
    await desk.return_loan(ReturnLoan(loan_id=lent.id, actor=DESK))
    assert db.holds[hold.id].status == HoldStatus.READY and db.holds[hold.id].copy == lendable
    assert desk.catalog.status(reference) == "AVAILABLE"


async def test_a_copy_back_of_a_type_not_for_holds_goes_to_the_shelf_not_to_the_queue(
    db: FakeLoansDatabase, desk: Desk
) -> None:
    add_rule(db, "*", "NEW", holds_allowed=False)  # lent, never held: first come, first served
    book, (new,) = desk.catalog.add_book(item_type="NEW")
    other = add_copy(desk.catalog, book, "BOOK")
    lent = await desk.issue(IssueLoan("users/p1", barcode=desk.catalog.barcode(new), actor=DESK))
    await desk.issue(IssueLoan("users/p3", barcode=desk.catalog.barcode(other), actor=DESK))
    hold = await desk.place_hold(PlaceHold("users/p2", book, actor=DESK))
    await desk.return_loan(ReturnLoan(loan_id=lent.id, actor=DESK))
    assert db.holds[hold.id].status == HoldStatus.WAITING and desk.catalog.status(new) == "AVAILABLE"


async def test_a_copy_only_some_categories_may_hold_goes_to_the_first_of_them_in_the_queue(
    db: FakeLoansDatabase, desk: Desk
) -> None:
    add_rule(db, "CHILD", "DVD", holds_allowed=False)
    book, (disc,) = desk.catalog.add_book(item_type="DVD")
    novel = add_copy(desk.catalog, book, "BOOK")
    lent = await desk.issue(IssueLoan("users/p1", barcode=desk.catalog.barcode(disc), actor=DESK))
    await desk.issue(IssueLoan("users/p9", barcode=desk.catalog.barcode(novel), actor=DESK))
    desk.users.categories["users/c1"] = "CHILD"
    child = await desk.place_hold(PlaceHold("users/c1", book, actor=DESK))  # may hold the BOOK copy
    adult = await desk.place_hold(PlaceHold("users/a1", book, actor=DESK))
    db.patrons["users/c1"] = PatronRecord("users/c1", 1, "ACTIVE", patron_category="CHILD")
    db.patrons["users/a1"] = PatronRecord("users/a1", 1, "ACTIVE", patron_category="ADULT")
    await desk.return_loan(ReturnLoan(loan_id=lent.id, actor=DESK))
    assert db.holds[child.id].status == HoldStatus.WAITING  # keeps its place, for the BOOK copy
    assert db.holds[adult.id].status == HoldStatus.READY and db.holds[adult.id].copy == disc


async def test_a_hold_takes_its_limit_and_pickup_window_from_the_rule_of_the_titles_item_type(
    db: FakeLoansDatabase, desk: Desk
) -> None:
    add_rule(db, "*", "DVD", max_holds=1, hold_pickup_days=2)
    film, (disc,) = desk.catalog.add_book(item_type="DVD")
    other_film, _ = desk.catalog.add_book(item_type="DVD")
    await desk.place_hold(PlaceHold("users/p1", film, actor=DESK))
    hold = await desk.receive(disc)
    end_of_the_second_day = datetime(2026, 11, 4, 23, 59, 59, tzinfo=UTC)  # after NOW's, the library on UTC
    assert hold.status == HoldStatus.READY and hold.expire_at == end_of_the_second_day
    with pytest.raises(FailedPrecondition) as limit:
        await desk.place_hold(PlaceHold("users/p1", other_film, actor=DESK))
    assert limit.value.reason == "HOLD_LIMIT_REACHED"


@pytest.mark.parametrize("children", [1, 25])
async def test_a_copy_back_only_some_categories_may_hold_is_trapped_as_it_is_checked_in(
    db: FakeLoansDatabase, desk: Desk, monkeypatch: pytest.MonkeyPatch, children: int
) -> None:
    """Never AVAILABLE on the way to the hold shelf: a second desk lending the title meanwhile finds no copy,
    and the first patron in the queue who may hold it gets it, however many who may not are ahead."""
    add_rule(db, "CHILD", "DVD", holds_allowed=False)
    book, (disc,) = desk.catalog.add_book(item_type="DVD")
    novel = add_copy(desk.catalog, book, "BOOK")
    lent = await desk.issue(IssueLoan("users/p1", barcode=desk.catalog.barcode(disc), actor=DESK))
    await desk.issue(IssueLoan("users/p9", barcode=desk.catalog.barcode(novel), actor=DESK))
    for n in range(children):
        desk.users.categories[f"users/c{n}"] = "CHILD"
        db.patrons[f"users/c{n}"] = PatronRecord(f"users/c{n}", 1, "ACTIVE", patron_category="CHILD")
        await desk.place_hold(PlaceHold(f"users/c{n}", book, actor=DESK))  # may hold the BOOK copy
    adult = await desk.place_hold(PlaceHold("users/a1", book, actor=DESK))
    db.patrons["users/a1"] = PatronRecord("users/a1", 1, "ACTIVE", patron_category="ADULT")
    checked_in, lent_meanwhile = desk.catalog.check_in, []

    async def second_desk_meanwhile(**step: str) -> object:
        answer = await checked_in(**step)
        try:
            lent_meanwhile.append(await desk.issue(IssueLoan("users/p7", book=book, actor=DESK)))
        except FailedPrecondition as refused:
            assert refused.reason == "NO_COPY_AVAILABLE"
        return answer

    monkeypatch.setattr(desk.catalog, "check_in", second_desk_meanwhile)
    await desk.return_loan(ReturnLoan(loan_id=lent.id, actor=DESK))
    assert lent_meanwhile == []
    assert (db.holds[adult.id].status, db.holds[adult.id].copy) == (HoldStatus.READY, disc)
    assert desk.catalog.copies[disc].current_hold == adult.name
    assert {hold.status for hold in db.holds.values() if hold.patron.startswith("users/c")} == {HoldStatus.WAITING}
