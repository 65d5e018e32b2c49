"""Keeping the projection of accounts (domain/patrons.py) from the users service's events."""

from __future__ import annotations

from services.loans.app.ports import LoansUnitOfWork
from services.loans.domain.patrons import PatronRecord


async def keep_account(record: PatronRecord, *, uow: LoansUnitOfWork) -> bool:
    """Store what an event says of an account, unless a newer version of it is stored (events of one account
    can arrive out of order: several loans processes share the consumer). Whether it was stored."""
    async with uow:
        stored = await uow.patrons.keep_newer(record)
        await uow.commit()
    return stored
