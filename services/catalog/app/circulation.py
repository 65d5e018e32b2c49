"""Circulation: the copy operations the loans service calls over the mesh.

Each is atomic and idempotent. It takes a transaction lock on the loan or hold it serves, so a retried or
concurrent call for the same loan finds the first call's result instead of taking a second copy, and it
locks the copy's row, so two loans never take one copy: the invariant spans loans and copies, hence locks
rather than optimistic versions (a check-out must wait for its copy, not fail).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from services.catalog.app.copies import save_copy
from services.catalog.app.ports import CatalogUnitOfWork
from services.catalog.domain.books import BOOK, BookNotFound
from services.catalog.domain.copies import Copy, NoCopyAvailable
from services.support.runtime.clock import Clock


@dataclass(frozen=True, slots=True)
class CopySelector:
    """Which copy: exactly one of a copy's ids, a barcode, or a book (any AVAILABLE copy of it)."""

    copy: tuple[uuid.UUID, uuid.UUID] | None = None
    barcode: str = ""
    book_id: uuid.UUID | None = None


@dataclass(frozen=True, slots=True)
class CheckOutCopy:
    selector: CopySelector
    loan: str
    hold: str = ""
    """The hold this loan fulfils: its copy on the hold shelf may be lent."""


@dataclass(frozen=True, slots=True)
class CheckInCopy:
    book_id: uuid.UUID
    copy_id: uuid.UUID
    loan: str
    hold: str = ""
    """The next hold in the queue: the copy goes onto the hold shelf for it."""


@dataclass(frozen=True, slots=True)
class ReserveCopy:
    book_id: uuid.UUID
    hold: str
    branch: str = ""


@dataclass(frozen=True, slots=True)
class ReleaseCopy:
    book_id: uuid.UUID
    copy_id: uuid.UUID
    hold: str


async def check_out_copy(cmd: CheckOutCopy, *, uow: CatalogUnitOfWork, clock: Clock) -> Copy:
    """ON_LOAN for the loan. The same loan again returns the copy it already has (whatever the selector)."""
    async with uow:
        await uow.lock(cmd.loan)
        if cmd.selector.barcode:  # at the desk, the commonest check-out: both questions in one read
            already, copy = await uow.copies.holding_or_barcode(loan=cmd.loan, barcode=cmd.selector.barcode)
        else:
            already, copy = await uow.copies.holding(loan=cmd.loan), None
        if already is not None:
            return already
        copy = copy or await _select(cmd.selector, cmd.hold, uow)
        copy.check_out(cmd.loan, hold=cmd.hold, now=clock.now())
        await save_copy(copy, uow)
        await uow.commit()
    return copy


async def _select(selector: CopySelector, hold: str, uow: CatalogUnitOfWork) -> Copy:
    if selector.copy is not None:
        return await uow.copies.get(*selector.copy, for_update=True)
    if selector.barcode:
        return await uow.copies.by_barcode(selector.barcode, for_update=True)
    if selector.book_id is None:
        raise ValueError("a CopySelector names a copy, a barcode or a book")
    if hold and (held := await uow.copies.holding(hold=hold)) is not None and held.book_id == selector.book_id:
        return held
    if (copy := await uow.copies.first_available(selector.book_id)) is not None:
        return copy
    raise await _none_available(selector.book_id, uow)


async def check_in_copy(cmd: CheckInCopy, *, uow: CatalogUnitOfWork, clock: Clock) -> Copy:
    """Ends the loan on the copy: onto the hold shelf for the hold, or AVAILABLE (also when the hold has a copy
    on the shelf already: two copies of a book came back at once for the head of its queue). Repeating it
    changes nothing; the answer says where the copy went."""
    async with uow:
        await uow.lock(cmd.loan)
        hold = cmd.hold
        if hold:
            await uow.lock(hold)  # the loan's lock first, then the hold's: nobody takes them the other way round
            if (held := await uow.copies.holding(hold=hold)) is not None and held.id != cmd.copy_id:
                hold = ""
        copy = await uow.copies.get(cmd.book_id, cmd.copy_id, for_update=True)
        copy.check_in(cmd.loan, hold=hold, now=clock.now())
        await save_copy(copy, uow)
        await uow.commit()
    return copy


async def reserve_copy(cmd: ReserveCopy, *, uow: CatalogUnitOfWork, clock: Clock) -> Copy:
    """An AVAILABLE copy (at the branch when possible) onto the hold shelf; the same hold again gets the same copy."""
    async with uow:
        await uow.lock(cmd.hold)
        if (already := await uow.copies.holding(hold=cmd.hold)) is not None:
            return already
        copy = await uow.copies.first_available(cmd.book_id, prefer_branch=cmd.branch)
        if copy is None:
            raise await _none_available(cmd.book_id, uow)
        copy.reserve(cmd.hold, now=clock.now())
        await save_copy(copy, uow)
        await uow.commit()
    return copy


async def release_copy(cmd: ReleaseCopy, *, uow: CatalogUnitOfWork, clock: Clock) -> Copy:
    """Takes the copy off the hold shelf; releasing twice changes nothing."""
    async with uow:
        await uow.lock(cmd.hold)
        copy = await uow.copies.get(cmd.book_id, cmd.copy_id, for_update=True)
        copy.release(cmd.hold, now=clock.now())
        await save_copy(copy, uow)
        await uow.commit()
    return copy


async def _none_available(book_id: uuid.UUID, uow: CatalogUnitOfWork) -> Exception:
    if not await uow.copies.book_exists(book_id):
        return BookNotFound(book_id)
    return NoCopyAvailable(BOOK.format(book_id))
