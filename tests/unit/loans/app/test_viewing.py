"""Reading loans with fakes: one loan (readers their own), lists newest first, page by page."""

from __future__ import annotations

from datetime import timedelta

import pytest

from services.loans.app.issuing import IssueLoan
from services.loans.app.returning import ReturnLoan
from services.loans.app.viewing import GetLoan, ListLoans, get_loan, list_loans
from services.loans.domain.loan_record import LoanStatus
from services.loans.domain.loans import Loan
from services.support.runtime.errors import FailedPrecondition, InvalidArgument, PermissionDenied

from ..desk import DESK, Desk, reader


async def lend_five(desk: Desk, patron: str = "users/p1") -> list[Loan]:
    book, _ = desk.catalog.add_book(copies=5)
    made = []
    for _ in range(5):
        made.append(await desk.issue(IssueLoan(patron, book=book, actor=DESK)))
        desk.clock.advance(timedelta(seconds=1))
    return made


async def test_a_reader_sees_their_own_loan_only(desk: Desk) -> None:
    (loan, *_) = await lend_five(desk)
    assert (await get_loan(GetLoan(loan.id, reader("users/p1")), uow=desk.uow())).id == loan.id
    with pytest.raises(PermissionDenied):
        await get_loan(GetLoan(loan.id, reader("users/p2")), uow=desk.uow())


async def test_a_sagas_record_is_not_found(desk: Desk) -> None:
    book, _ = desk.catalog.add_book(copies=0)
    with pytest.raises(FailedPrecondition):  # no copy to lend: a FAILED record is left
        await desk.issue(IssueLoan("users/p1", book=book, actor=DESK))
    page = await list_loans(ListLoans(actor=DESK), uow=desk.uow(), clock=desk.clock)
    assert page.items == [] and page.total_size == 0


async def test_loans_are_listed_newest_first_page_by_page(desk: Desk) -> None:
    made = await lend_five(desk)
    seen, token = [], ""
    while True:
        command = ListLoans(parent="users/me", page_size=2, page_token=token, actor=reader("users/p1"))
        page = await list_loans(command, uow=desk.uow(), clock=desk.clock)
        seen += [loan.id for loan in page.items]
        assert page.total_size == 5
        token = page.next_page_token
        if not token:
            break
    assert seen == [loan.id for loan in reversed(made)]


async def test_a_list_filters_by_status_and_overdue(desk: Desk) -> None:
    made = await lend_five(desk)
    await desk.return_loan(ReturnLoan(loan_id=made[0].id, actor=DESK))
    returned = await list_loans(ListLoans(status=LoanStatus.RETURNED, actor=DESK), uow=desk.uow(), clock=desk.clock)
    assert [loan.id for loan in returned.items] == [made[0].id]
    assert (await list_loans(ListLoans(overdue_only=True, actor=DESK), uow=desk.uow(), clock=desk.clock)).items == []
    desk.clock.advance(timedelta(days=30))
    overdue = await list_loans(ListLoans(overdue_only=True, actor=DESK), uow=desk.uow(), clock=desk.clock)
    assert overdue.total_size == 4


async def test_readers_list_only_their_own_and_tokens_belong_to_their_query(desk: Desk) -> None:
    await lend_five(desk)
    with pytest.raises(PermissionDenied):
        await list_loans(ListLoans(parent="users/p1", actor=reader("users/p2")), uow=desk.uow(), clock=desk.clock)
    with pytest.raises(PermissionDenied):
        await list_loans(ListLoans(actor=reader("users/p2")), uow=desk.uow(), clock=desk.clock)
    first = await list_loans(ListLoans(page_size=2, actor=DESK), uow=desk.uow(), clock=desk.clock)
    other_query = ListLoans(book="books/x", page_size=2, page_token=first.next_page_token, actor=DESK)
    for command in (other_query, ListLoans(page_token="garbage", actor=DESK)):
        with pytest.raises(InvalidArgument) as bad:
            await list_loans(command, uow=desk.uow(), clock=desk.clock)
        assert bad.value.violations[0].field == "page_token"
