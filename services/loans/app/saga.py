"""Steps of the sagas: the loan a step's transaction changes, and how long a saga may be in flight."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta

from services.loans.app.ports import LoansUnitOfWork
from services.loans.domain.loans import Loan

LoanOfStep = Callable[[LoansUnitOfWork], Awaitable[Loan]]

SAGA_TIMEOUT = timedelta(seconds=60)
"""The default of ATHENAEUM_SAGA_TIMEOUT_SECONDS: a saga still unfinished after this long was abandoned (its
process died), and one begun longer ago is no longer in flight."""


def known_then_read(loan: Loan) -> LoanOfStep:
    """The loan a saga step changes, inside the step's transaction: on the first try, the loan as the previous
    step committed it, not read again (its save checks the version, so anything that changed it meanwhile
    makes the try a lost race); on a retry after a lost race, read again and locked."""
    known = [loan]

    async def current(uow: LoansUnitOfWork) -> Loan:
        return known.pop() if known else await uow.loans.get(loan.id, for_update=True)

    return current
