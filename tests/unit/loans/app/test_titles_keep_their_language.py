# ruff: noqa: RUF001  (Russian titles on purpose)
"""A loan and a hold keep their book's language with its title, as the catalog has it, so the web's lists mark
each title with it (a screen reader reads a Russian title with a Russian voice): from the check-out, from the
book when the hold is placed, from the copy set aside, or when the scheduler describes a hold kept before; and
the fines that name a loan's title keep it too."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, timedelta

from services.loans.api.convert import fine_to_proto, hold_to_proto, loan_to_proto
from services.loans.app.describing import describe_holds
from services.loans.app.holding import PlaceHold
from services.loans.app.issuing import IssueLoan
from services.loans.app.losing import DeclareLoanLost
from services.loans.domain.calendar import NO_CLOSED_DAYS

from ..desk import DESK, Desk
from ..fakes import FakeLoansDatabase


async def test_a_loan_keeps_the_language_of_its_book_with_its_title(desk: Desk) -> None:
    book, _ = desk.catalog.add_book("Мастер и Маргарита", language="ru")
    loan = await desk.issue(IssueLoan("users/p1", book=book, actor=DESK))
    answer = loan_to_proto(loan, now=desk.clock.now(), zone=UTC, closed=NO_CLOSED_DAYS)
    assert (answer.book_title, answer.book_language) == ("Мастер и Маргарита", "ru")


async def test_a_loan_from_a_catalog_that_does_not_answer_the_title_asks_the_book_for_both(desk: Desk) -> None:
    desk.catalog.answers_titles = False  # a catalog mid-upgrade
    book, _ = desk.catalog.add_book("Мёртвые души", language="ru")
    loan = await desk.issue(IssueLoan("users/p1", book=book, actor=DESK))
    assert (loan.book_title, loan.book_language) == ("Мёртвые души", "ru")


async def test_a_hold_keeps_the_language_of_its_book_waiting_and_set_aside(desk: Desk) -> None:
    waiting_for, _ = desk.catalog.add_book("Белая гвардия", copies=0, language="ru")
    waiting = await desk.place_hold(PlaceHold("users/p1", waiting_for, pickup_branch="MAIN", actor=DESK))
    assert hold_to_proto(waiting).book_language == "ru"
    on_the_shelf, _ = desk.catalog.add_book("The Nose", language="en")
    set_aside = await desk.place_hold(PlaceHold("users/p2", on_the_shelf, pickup_branch="MAIN", actor=DESK))
    assert (set_aside.copy != "", hold_to_proto(set_aside).book_language) == (True, "en")


async def test_a_hold_kept_before_it_knew_its_language_is_described_with_it(db: FakeLoansDatabase, desk: Desk) -> None:
    book, _ = desk.catalog.add_book("Нос", copies=0, language="ru")
    placed = await desk.place_hold(PlaceHold("users/p1", book, pickup_branch="MAIN", actor=DESK))
    db.holds[placed.id] = replace(db.holds[placed.id], book_title="", book_language="")  # as migrated
    assert await describe_holds(uow=desk.uow(), catalog=desk.catalog) == 1
    assert (db.holds[placed.id].book_title, db.holds[placed.id].book_language) == ("Нос", "ru")


async def test_the_fines_of_a_loan_keep_the_language_of_the_title_they_name(db: FakeLoansDatabase, desk: Desk) -> None:
    book, _ = desk.catalog.add_book("Шинель", language="ru")
    loan = await desk.issue(IssueLoan("users/p1", book=book, actor=DESK))
    desk.clock.advance(db.loans[loan.id].due_at - desk.clock.now() + timedelta(days=3))
    await desk.declare_lost(DeclareLoanLost(loan.id, amount="10.00", reason="gone", actor=DESK))
    fines = sorted((fine_to_proto(fine) for fine in db.fines.values()), key=lambda fine: fine.kind)
    assert [(fine.description.split(":")[0], fine.book_language) for fine in fines] == [
        ("overdue", "ru"),
        ("lost", "ru"),
    ]
