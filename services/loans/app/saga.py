"""Steps of the sagas: their ids on peers (the catalog's check-out, check-in, reserve, release), and the loan a
step's transaction changes."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable

from services.loans.app.ports import LoansUnitOfWork
from services.loans.domain.loans import Loan

LoanOfStep = Callable[[LoansUnitOfWork], Awaitable[Loan]]


def step_id(resource_id: uuid.UUID, step: str) -> str:
    """The request_id of one saga step on a peer: the same on every retry, so the peer acts once."""
    return str(uuid.uuid5(resource_id, step))


def known_then_read(loan: Loan) -> LoanOfStep:
    """The loan a saga step changes, inside the step's transaction: on the first try, the loan as the previous
    step committed it, not read again (its save checks the version, so anything that changed it meanwhile
    makes the try a lost race); on a retry after a lost race, read again and locked."""
    known = [loan]

    async def current(uow: LoansUnitOfWork) -> Loan:
        return known.pop() if known else await uow.loans.get(loan.id, for_update=True)

    return current
