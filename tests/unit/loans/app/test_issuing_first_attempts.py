"""An issue's request_id and the runtime's claim, with fakes: the first attempt of a request looks for no
loan it may have made (none can exist); any other looks; a first attempt whose id a loan already carries (the
ledger forgot the id, or freed it after a failure that followed the loan's commit) is answered that loan."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from services.loans.app.issuing import IssueLoan
from services.loans.domain.loan_record import LoanStatus
from services.support.runtime.errors import Conflict
from services.support.runtime.idempotency import Attempt, current_attempt

from ..desk import DESK, Crash, Desk, crash
from ..fake_repositories import FakeLoanRepository
from ..fakes import FakeLoansDatabase


@contextmanager
def claimed(request_id: uuid.UUID, *, first: bool) -> Iterator[None]:
    """As the runtime runs the use case for the attempt that owns the id."""
    token = current_attempt.set(Attempt(request_id, "IssueLoan", uuid.uuid4(), first=first))
    try:
        yield
    finally:
        current_attempt.reset(token)


@pytest.fixture
def looks(monkeypatch: pytest.MonkeyPatch) -> list[uuid.UUID]:
    """The request_ids the use case looked for a loan of."""
    looked: list[uuid.UUID] = []
    by_request = FakeLoanRepository.by_request

    async def noted(self: FakeLoanRepository, request_id: uuid.UUID):  # type: ignore[no-untyped-def]
        looked.append(request_id)
        return await by_request(self, request_id)

    monkeypatch.setattr(FakeLoanRepository, "by_request", noted)
    return looked


def issue(book: str, request_id: uuid.UUID) -> IssueLoan:
    return IssueLoan("users/p1", book=book, request_id=request_id, actor=DESK)


async def test_a_first_attempt_looks_for_no_loan_and_a_retry_does(desk: Desk, looks: list[uuid.UUID]) -> None:
    book, _ = desk.catalog.add_book(copies=2)
    request_id = uuid.uuid4()
    with claimed(request_id, first=True):
        first = await desk.issue(issue(book, request_id))
    assert looks == []
    with claimed(request_id, first=False):  # taken over after a lease, or recalled: an earlier one may have
        again = await desk.issue(issue(book, request_id))
    assert again.id == first.id and looks == [request_id] and desk.catalog.check_outs == 1


@pytest.mark.parametrize("left", ["finished", "half way"])
async def test_a_first_attempt_whose_id_a_loan_carries_is_answered_as_a_retry(
    db: FakeLoansDatabase, desk: Desk, left: str
) -> None:
    book, (copy,) = desk.catalog.add_book()
    request_id = uuid.uuid4()
    if left == "finished":
        made = await desk.issue(issue(book, request_id))
    else:
        with pytest.raises(Crash):
            await desk.issue(issue(book, request_id), after_checkout=crash)
        (made,) = db.loans.values()
    with claimed(request_id, first=True):  # the ledger no longer knows the id
        loan = await desk.issue(issue(book, request_id))
    assert loan.id == made.id and loan.status == LoanStatus.ACTIVE and len(db.loans) == 1
    assert desk.catalog.copies[copy].current_loan == loan.name and desk.catalog.check_outs == 1


@pytest.mark.parametrize("first", [False, None], ids=["not the first attempt", "no claim"])
async def test_a_twin_that_looked_before_the_other_committed_is_told_to_retry(
    db: FakeLoansDatabase, desk: Desk, monkeypatch: pytest.MonkeyPatch, first: bool | None
) -> None:
    """Only the first attempt's claim rules out a twin in flight: another attempt, or a call without a claim,
    that meets the id on a loan does not carry that loan on beside its maker."""
    book, _ = desk.catalog.add_book(copies=2)
    request_id = uuid.uuid4()
    with pytest.raises(Crash):
        await desk.issue(issue(book, request_id), after_checkout=crash)

    by_request, looked = FakeLoanRepository.by_request, []

    async def committed_after_the_first_look(self: FakeLoanRepository, request_id: uuid.UUID):  # type: ignore[no-untyped-def]
        looked.append(request_id)
        return await by_request(self, request_id) if len(looked) > 1 else None

    monkeypatch.setattr(FakeLoanRepository, "by_request", committed_after_the_first_look)
    with pytest.raises(Conflict) as told:
        if first is None:
            await desk.issue(issue(book, request_id))
        else:
            with claimed(request_id, first=first):
                await desk.issue(issue(book, request_id))
    assert told.value.reason == "REQUEST_IN_PROGRESS" and len(db.loans) == 1
