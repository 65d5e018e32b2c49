"""What the issue saga asks its peers, with fakes: the title from the check-out (the book only when it lacks
one), a copy looked up before the check-out only at a limit, the limits of each item type, and which peer's
answer wins."""

from __future__ import annotations

import uuid

import pytest

from services.loans.app.holding import PlaceHold
from services.loans.domain.loan_record import LoanStatus
from services.loans.domain.rules import CirculationRule, RuleTerms
from services.support.runtime.errors import FailedPrecondition, NotFound

from ..desk import DESK, NOW, Crash, Desk, crash
from ..fakes import FakeLoansDatabase
from .test_issuing import issue, statuses


async def test_an_issue_by_barcode_takes_the_title_from_the_check_out_without_asking_for_the_book(
    db: FakeLoansDatabase, desk: Desk
) -> None:
    _book, (copy,) = desk.catalog.add_book("Oblomov")
    loan = await desk.issue(issue(barcode=desk.catalog.barcode(copy), request_id=uuid.uuid4()))
    assert loan.book_title == "Oblomov" and desk.catalog.title_lookups == 0


async def test_a_catalog_whose_check_out_has_no_title_is_asked_for_the_book(db: FakeLoansDatabase, desk: Desk) -> None:
    desk.catalog.answers_titles = False
    _book, (copy,) = desk.catalog.add_book("Oblomov")
    loan = await desk.issue(issue(barcode=desk.catalog.barcode(copy)))
    assert loan.status == LoanStatus.ACTIVE and loan.book_title == "Oblomov" and desk.catalog.title_lookups == 1


async def test_a_resumed_issue_takes_the_title_from_the_repeated_check_out(db: FakeLoansDatabase, desk: Desk) -> None:
    _book, (copy,) = desk.catalog.add_book("Oblomov")
    request_id = uuid.uuid4()
    with pytest.raises(Crash):
        await desk.issue(issue(barcode=desk.catalog.barcode(copy), request_id=request_id), after_checkout=crash)
    loan = await desk.issue(issue(barcode=desk.catalog.barcode(copy), request_id=request_id))
    assert loan.status == LoanStatus.ACTIVE and loan.book_title == "Oblomov"
    assert desk.catalog.check_outs == 1 and desk.catalog.title_lookups == 0


async def test_when_both_peers_refuse_before_the_saga_the_catalogs_answer_wins(
    db: FakeLoansDatabase, desk: Desk
) -> None:
    desk.users.down = True
    for command in (issue(barcode="NO-SUCH"), issue(book=f"books/{uuid.uuid4()}")):
        with pytest.raises(NotFound):
            await desk.issue(command)
    assert db.loans == {} and desk.catalog.check_outs == 0


async def test_within_every_limit_an_issue_by_barcode_asks_the_catalog_only_to_check_out(
    db: FakeLoansDatabase, desk: Desk
) -> None:
    book, (copy,) = desk.catalog.add_book(title="Oblomov")
    loan = await desk.issue(issue(barcode=desk.catalog.barcode(copy)))
    assert (loan.status, loan.book, loan.copy, loan.book_title) == (LoanStatus.ACTIVE, book, copy, "Oblomov")
    assert desk.catalog.copy_lookups == 0 and desk.catalog.check_outs == 1


async def test_at_a_limit_the_copy_is_looked_up_first_and_a_refusal_records_nothing(
    db: FakeLoansDatabase, desk: Desk
) -> None:
    db.set_default_rule(max_loans=1)
    _book, (first, second) = desk.catalog.add_book(copies=2)
    await desk.issue(issue(barcode=desk.catalog.barcode(first)))
    with pytest.raises(FailedPrecondition) as refused:
        await desk.issue(issue(barcode=desk.catalog.barcode(second)))
    assert refused.value.reason == "LOAN_LIMIT_REACHED"
    assert desk.catalog.copy_lookups == 1 and desk.catalog.check_outs == 1 and statuses(db) == [LoanStatus.ACTIVE]


async def test_a_limit_of_another_item_type_does_not_refuse_a_copy_looked_up(db: FakeLoansDatabase, desk: Desk) -> None:
    db.set_default_rule(max_loans=1)
    films = CirculationRule.create(RuleTerms("*", "DVD", max_loans=3), now=NOW)
    db.rules[films.id] = films
    _book, (novel,) = desk.catalog.add_book()
    _film, (disc,) = desk.catalog.add_book(item_type="DVD")
    await desk.issue(issue(barcode=desk.catalog.barcode(novel)))
    loan = await desk.issue(issue(barcode=desk.catalog.barcode(disc)))
    assert loan.status == LoanStatus.ACTIVE and loan.item_type == "DVD" and desk.catalog.copy_lookups == 1


async def test_a_patron_with_a_ready_hold_borrows_the_shelf_copy_by_barcode(db: FakeLoansDatabase, desk: Desk) -> None:
    book, (copy,) = desk.catalog.add_book()
    hold = await desk.place_hold(PlaceHold("users/p1", book, actor=DESK))
    loan = await desk.issue(issue(barcode=desk.catalog.barcode(copy)))
    assert loan.copy == copy and loan.hold == hold.name and desk.catalog.copy_lookups == 1
    assert db.event_types()[-2:] == ["LoanIssued", "HoldFulfilled"]


@pytest.mark.parametrize("now", ["blocked", "unreachable"])
async def test_a_retry_of_a_finished_issue_answers_its_loan_whatever_users_says_now(desk: Desk, now: str) -> None:
    _, (copy,) = desk.catalog.add_book()
    cmd = issue(barcode=desk.catalog.barcode(copy), request_id=uuid.uuid4())
    first = await desk.issue(cmd)
    if now == "blocked":
        desk.users.blocked["users/p1"] = ("FINES_OWED",)
    else:
        desk.users.down = True
    again = await desk.issue(cmd)
    assert again.id == first.id and again.status == LoanStatus.ACTIVE and desk.catalog.check_outs == 1


async def test_each_rule_counts_the_loans_it_governs_whatever_the_order_they_came_in(
    db: FakeLoansDatabase, desk: Desk
) -> None:
    """Under "*/* 2, */DVD 2": two DVDs made the next book refused ("already has 2 loan(s)"), while two books
    first let two DVDs follow: four loans or two, by the order of the desk."""
    db.set_default_rule(max_loans=2)
    films = CirculationRule.create(RuleTerms("*", "DVD", max_loans=2), now=NOW)
    db.rules[films.id] = films
    _film, discs = desk.catalog.add_book(copies=3, item_type="DVD")
    _book, novels = desk.catalog.add_book(copies=3)
    for disc in discs[:2]:
        await desk.issue(issue(barcode=desk.catalog.barcode(disc)))
    for novel in novels[:2]:
        assert (await desk.issue(issue(barcode=desk.catalog.barcode(novel)))).status == LoanStatus.ACTIVE
    for copy, rule in ((novels[2], "*/*"), (discs[2], "*/DVD")):
        with pytest.raises(FailedPrecondition) as refused:
            await desk.issue(issue(barcode=desk.catalog.barcode(copy)))
        assert refused.value.reason == "LOAN_LIMIT_REACHED" and f"2 loan(s) under the {rule} rule" in str(refused.value)
