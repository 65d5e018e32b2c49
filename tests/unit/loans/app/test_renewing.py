"""Renewing with fakes: a new due time within the rule, refused for others' loans, ineligible patrons and
books others wait for."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from services.loans.app.holding import PlaceHold
from services.loans.app.issuing import IssueLoan
from services.loans.app.renewing import RenewLoan
from services.loans.domain.loans import Loan
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
