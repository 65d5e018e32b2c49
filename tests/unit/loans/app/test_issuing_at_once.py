"""What an issue asks at once: the users answer about the patron while the request_id is looked up, and what
that must not change (a retry of a finished issue answers its loan whatever users says now)."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from services.loans.app.issuing import IssueLoan
from services.loans.domain.borrowing import Eligibility
from services.loans.domain.loans import Loan, LoanStatus
from services.support.runtime.errors import DependencyUnavailable

from ..desk import DESK, Desk
from ..fake_peers import FakeUsers
from ..fake_repositories import FakeLoanRepository


class UsersWaitingForTheLookUp(FakeUsers):
    """Answers only once the request_id's look-up is under way, which waits for this answer to be asked."""

    def __init__(self) -> None:
        super().__init__()
        self.asked, self.looking_up = asyncio.Event(), asyncio.Event()

    async def eligibility(self, patron: str) -> Eligibility:
        self.asked.set()
        await self.looking_up.wait()
        return await super().eligibility(patron)


async def test_the_patron_is_asked_about_while_the_request_id_is_looked_up(
    desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    users = desk.users = UsersWaitingForTheLookUp()
    by_request = FakeLoanRepository.by_request

    async def by_request_once_users_is_asked(self: FakeLoanRepository, request_id: uuid.UUID) -> Loan | None:
        users.looking_up.set()
        await users.asked.wait()  # one after the other, each would wait for the other for ever
        return await by_request(self, request_id)

    monkeypatch.setattr(FakeLoanRepository, "by_request", by_request_once_users_is_asked)
    _, (copy,) = desk.catalog.add_book()
    cmd = IssueLoan("users/p1", barcode=desk.catalog.barcode(copy), request_id=uuid.uuid4(), actor=DESK)
    loan = await asyncio.wait_for(desk.issue(cmd), timeout=5)
    assert loan.status == LoanStatus.ACTIVE and loan.patron == "users/p1"


@pytest.mark.parametrize("now", ["blocked", "unreachable"])
async def test_a_retry_of_a_finished_issue_answers_its_loan_whatever_users_says_now(desk: Desk, now: str) -> None:
    _, (copy,) = desk.catalog.add_book()
    cmd = IssueLoan("users/p1", barcode=desk.catalog.barcode(copy), request_id=uuid.uuid4(), actor=DESK)
    first = await desk.issue(cmd)
    if now == "blocked":
        desk.users.blocked["users/p1"] = ("FINES_OWED",)
    else:
        desk.users.down = True
    again = await desk.issue(cmd)
    assert again.id == first.id and again.status == LoanStatus.ACTIVE and desk.catalog.check_outs == 1


async def test_an_issue_refused_by_users_is_refused_as_before(desk: Desk) -> None:
    desk.users.down = True
    _, (copy,) = desk.catalog.add_book()
    cmd = IssueLoan("users/p1", barcode=desk.catalog.barcode(copy), request_id=uuid.uuid4(), actor=DESK)
    with pytest.raises(DependencyUnavailable):
        await desk.issue(cmd)
    assert desk.catalog.check_outs == 0
