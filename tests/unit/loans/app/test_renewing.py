"""Renewing with fakes: a new due time within the rule, refused for others' loans, ineligible patrons and
books others wait for."""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal

import pytest

from services.loans.app.holding import PlaceHold
from services.loans.app.issuing import IssueLoan
from services.loans.app.renewing import RenewLoan
from services.loans.domain.loans import Loan
from services.loans.domain.rules import CirculationRule, RuleTerms
from services.support.runtime.errors import FailedPrecondition, NotFound, PermissionDenied

from ..desk import DESK, Desk, reader
from ..fakes import FakeLoansDatabase

DAY = timedelta(days=1)


async def lend(desk: Desk) -> Loan:
    book, _ = desk.catalog.add_book()
    return await desk.issue(IssueLoan("users/p1", book=book, actor=DESK))


async def test_a_reader_renews_their_own_loan_from_its_due_date(db: FakeLoansDatabase, desk: Desk) -> None:
    db.set_default_rule(renewal_period_days=10)
    loan = await lend(desk)
    assert loan.due_at is not None
    desk.clock.advance(13 * DAY)
    request_id = uuid.uuid4()
    renewed = await desk.renew(RenewLoan(loan.id, request_id, reader("users/p1")))
    assert renewed.renewal_count == 1 and renewed.due_at == loan.due_at + 10 * DAY
    again = await desk.renew(RenewLoan(loan.id, request_id, reader("users/p1")))
    assert again.renewal_count == 1 and db.event_types().count("LoanRenewed") == 1


async def test_a_reader_may_not_renew_another_patrons_loan(desk: Desk) -> None:
    loan = await lend(desk)
    with pytest.raises(PermissionDenied):
        await desk.renew(RenewLoan(loan.id, actor=reader("users/p2")))


async def test_an_ineligible_patron_may_not_renew(desk: Desk) -> None:
    loan = await lend(desk)
    desk.users.blocked["users/p1"] = ("card expired",)
    with pytest.raises(FailedPrecondition) as refused:
        await desk.renew(RenewLoan(loan.id, actor=DESK))
    assert refused.value.reason == "PATRON_NOT_ELIGIBLE" and "card expired" in refused.value.message


async def test_a_loan_others_wait_for_is_not_renewed(desk: Desk) -> None:
    loan = await lend(desk)
    await desk.place_hold(PlaceHold("users/p2", loan.book, actor=DESK))
    with pytest.raises(FailedPrecondition) as refused:
        await desk.renew(RenewLoan(loan.id, actor=DESK))
    assert refused.value.reason == "HOLDS_WAITING"


async def test_a_saga_record_is_not_found(db: FakeLoansDatabase, desk: Desk) -> None:
    book, _ = desk.catalog.add_book()
    desk.catalog.copies.clear()  # nothing to lend: the attempt leaves a FAILED record
    with pytest.raises(FailedPrecondition):
        await desk.issue(IssueLoan("users/p1", book=book, actor=DESK))
    (failed,) = db.loans.values()
    with pytest.raises(NotFound):
        await desk.renew(RenewLoan(failed.id, actor=DESK))


async def test_fines_past_the_limit_block_a_renewal_and_a_hold_as_they_block_a_loan(
    db: FakeLoansDatabase, desk: Desk
) -> None:
    """A patron the desk refused for their fines renewed and placed holds, and the hold's copy was trapped for
    someone who could not borrow it."""
    from .test_fining import charge

    db.set_default_rule(max_outstanding_fines=Decimal("10.00"))
    loan = await lend(desk)
    await charge(desk, amount="50.00")
    with pytest.raises(FailedPrecondition) as renewal:
        await desk.renew(RenewLoan(loan.id, actor=reader("users/p1")))
    book, _ = desk.catalog.add_book()
    with pytest.raises(FailedPrecondition) as hold:
        await desk.place_hold(PlaceHold("users/p1", book, actor=DESK))
    assert renewal.value.reason == hold.value.reason == "FINES_LIMIT_EXCEEDED"


async def test_an_overdue_loan_blocks_a_hold_but_not_the_renewal_of_another_loan(
    db: FakeLoansDatabase, desk: Desk
) -> None:
    films = CirculationRule.create(RuleTerms("*", "DVD", loan_period_days=1), now=desk.clock.now())
    db.rules[films.id] = films
    film, _ = desk.catalog.add_book(item_type="DVD")
    first = await desk.issue(IssueLoan("users/p1", book=film, actor=DESK))
    second = await lend(desk)
    desk.clock.advance(timedelta(days=3))  # the film is overdue, the book not
    assert (await desk.renew(RenewLoan(second.id, actor=DESK))).renewal_count == 1
    book, _ = desk.catalog.add_book()
    with pytest.raises(FailedPrecondition) as hold:
        await desk.place_hold(PlaceHold("users/p1", book, actor=DESK))
    assert hold.value.reason == "TOO_MANY_OVERDUE_LOANS" and first.id != second.id
