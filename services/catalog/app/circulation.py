"""Circulation: the copy operations the loans service calls over the mesh.

Each is atomic and idempotent, and two loans never take one copy. The desk's two, a check-out by barcode and
a check-in, are one read and one write, which commits with its event and checks the version the copy was
read with, so twins and rivals meet at the write (and at the unique loan and hold per copy). The loser
changes nothing and the runtime repeats it: it then reads what the winner did (the copy out on its loan, a
copy not available, the hold's copy on the shelf). The rest (a check-out by book, which chooses its copy, or
by the copy's name; a reservation; a release; a shelving) lock the loan or hold they serve, so a repeat finds the first
call's copy instead of taking a second, and the copy's row, so a check-out waits for its copy rather than
failing.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from services.catalog.app.copies import save_copy, save_settled_copy
from services.catalog.app.ports import CatalogUnitOfWork
from services.catalog.domain.books import BOOK, BookNotFound
from services.catalog.domain.copies import BarcodeNotFound, Copy, NoCopyAvailable
from services.catalog.domain.copy_values import CopyStatus
from services.catalog.domain.item_types import ANY_ITEM_TYPE, ItemTypeFilter
from services.support.runtime.branches import ANY_BRANCH, LibraryBranches
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
    item_types: ItemTypeFilter = ANY_ITEM_TYPE
    """By book: the item types the copy picked may be of."""


@dataclass(frozen=True, slots=True)
class CheckInCopy:
    book_id: uuid.UUID
    copy_id: uuid.UUID
    loan: str
    hold: str = ""
    """The next hold in the queue: the copy goes onto the hold shelf for it."""
    lost: bool = False
    """The loan's copy was declared lost: it goes LOST, and keeps the loan's name till found."""
    in_transit: bool = False
    """With `hold`: IN_TRANSIT for it (to the hold's pickup branch), not onto this desk's hold shelf."""


@dataclass(frozen=True, slots=True)
class ReserveCopy:
    book_id: uuid.UUID
    hold: str
    branch: str = ""
    item_types: ItemTypeFilter = ANY_ITEM_TYPE
    """The item types the copy picked may be of."""


@dataclass(frozen=True, slots=True)
class ReleaseCopy:
    book_id: uuid.UUID
    copy_id: uuid.UUID
    hold: str


@dataclass(frozen=True, slots=True)
class ShelveHeldCopy:
    book_id: uuid.UUID
    copy_id: uuid.UUID
    hold: str


@dataclass(frozen=True, slots=True)
class ReportHeldCopyMissing:
    book_id: uuid.UUID
    copy_id: uuid.UUID
    hold: str
    status: CopyStatus = CopyStatus.LOST
    """LOST (missing), or DAMAGED / WITHDRAWN: taken out of circulation by staff."""


@dataclass(frozen=True, slots=True)
class SendCopyHome:
    book_id: uuid.UUID
    copy_id: uuid.UUID
    from_branch: str


@dataclass(frozen=True, slots=True)
class ReceiveCopyHome:
    book_id: uuid.UUID
    copy_id: uuid.UUID
    branch: str
    take_in: bool = False
    """AVAILABLE at `branch` even when it is not the copy's own: a hold there is to take it."""


async def check_out_copy(cmd: CheckOutCopy, *, uow: CatalogUnitOfWork, clock: Clock) -> Copy:
    """ON_LOAN for the loan. The same loan again returns the copy it already has (whatever the selector)."""
    if cmd.selector.barcode:
        return await _check_out_by_barcode(cmd, uow=uow, clock=clock)
    async with uow:
        await uow.lock(cmd.loan)
        if (already := await uow.copies.holding(loan=cmd.loan)) is not None:
            return already
        copy = await _select(cmd.selector, cmd.hold, cmd.item_types, uow)
        copy.check_out(cmd.loan, hold=cmd.hold, now=clock.now())
        await save_copy(copy, uow)
        await uow.commit()
    return copy


async def _check_out_by_barcode(cmd: CheckOutCopy, *, uow: CatalogUnitOfWork, clock: Clock) -> Copy:
    """At the desk, the commonest check-out: both questions (the copy out on the loan, the barcode's copy) in
    one read, then the change and its event in one write."""
    async with uow.single_write():
        already, copy, available_others = await uow.copies.to_check_out(loan=cmd.loan, barcode=cmd.selector.barcode)
        if already is not None:
            return already
        if copy is None:
            raise BarcodeNotFound(cmd.selector.barcode)
        copy.check_out(cmd.loan, hold=cmd.hold, now=clock.now())
        await save_settled_copy(copy, available_others, uow)
        await uow.commit()
    return copy


async def _select(selector: CopySelector, hold: str, item_types: ItemTypeFilter, uow: CatalogUnitOfWork) -> Copy:
    if selector.copy is not None:
        return await uow.copies.get(*selector.copy, for_update=True)
    if selector.book_id is None:
        raise ValueError("a CopySelector names a copy, a barcode or a book")
    if hold and (held := await uow.copies.holding(hold=hold)) is not None and held.book_id == selector.book_id:
        return held
    if (copy := await uow.copies.first_available(selector.book_id, item_types=item_types)) is not None:
        return copy
    raise await _none_available(selector.book_id, item_types, uow)


async def check_in_copy(cmd: CheckInCopy, *, uow: CatalogUnitOfWork, clock: Clock) -> Copy:
    """Ends the loan on the copy: onto the hold shelf for the hold (in transit for it with `in_transit`), or
    AVAILABLE (also when the hold has a copy set aside already: two copies of a book came back at once for the
    head of its queue). Repeating it changes nothing; the answer says where the copy went."""
    async with uow.single_write():
        copy, on_shelf_for_hold, available_others = await uow.copies.to_check_in(
            cmd.book_id, cmd.copy_id, hold=cmd.hold
        )
        hold = cmd.hold if on_shelf_for_hold in (None, cmd.copy_id) and not cmd.lost else ""
        copy.check_in(cmd.loan, hold=hold, lost=cmd.lost, in_transit=cmd.in_transit, now=clock.now())
        await save_settled_copy(copy, available_others, uow)
        await uow.commit()
    return copy


async def reserve_copy(
    cmd: ReserveCopy, *, uow: CatalogUnitOfWork, clock: Clock, branches: LibraryBranches = ANY_BRANCH
) -> Copy:
    """An AVAILABLE copy of the item types asked for (at the branch when possible) set aside for the hold
    (IN_TRANSIT for it, on the pull list); the same hold again gets the same copy. A library that lists its
    `branches` sets aside only a copy at one of them (or at none): a copy still at a branch it does not list
    (catalogued before the list) would be on the pull list of a branch no desk works at; with none other, the
    hold waits."""
    async with uow:
        await uow.lock(cmd.hold)
        if (already := await uow.copies.holding(hold=cmd.hold)) is not None:
            return already
        copy = await uow.copies.first_available(
            cmd.book_id, prefer_branch=cmd.branch, item_types=cmd.item_types, at_branches=branches.codes
        )
        if copy is None:
            raise await _none_available(cmd.book_id, cmd.item_types, uow)
        copy.reserve(cmd.hold, now=clock.now())
        await save_copy(copy, uow)
        await uow.commit()
    return copy


async def release_copy(cmd: ReleaseCopy, *, uow: CatalogUnitOfWork, clock: Clock) -> Copy:
    """Takes the copy off the hold shelf (or out of transit for the hold); releasing twice changes nothing."""
    async with uow:
        await uow.lock(cmd.hold)
        copy = await uow.copies.get(cmd.book_id, cmd.copy_id, for_update=True)
        copy.release(cmd.hold, now=clock.now())
        await save_copy(copy, uow)
        await uow.commit()
    return copy


async def shelve_held_copy(cmd: ShelveHeldCopy, *, uow: CatalogUnitOfWork, clock: Clock) -> Copy:
    """A copy in transit for the hold reached the pickup desk: onto the hold shelf; twice changes nothing."""
    async with uow:
        await uow.lock(cmd.hold)
        copy = await uow.copies.get(cmd.book_id, cmd.copy_id, for_update=True)
        copy.shelve(cmd.hold, now=clock.now())
        await save_copy(copy, uow)
        await uow.commit()
    return copy


async def report_held_copy_missing(cmd: ReportHeldCopyMissing, *, uow: CatalogUnitOfWork, clock: Clock) -> Copy:
    """A copy set aside for the hold was not found: LOST ("missing on the shelf"), or staff took it out of
    circulation (`status`); twice changes nothing."""
    async with uow:
        await uow.lock(cmd.hold)
        copy = await uow.copies.get(cmd.book_id, cmd.copy_id, for_update=True)
        copy.report_missing(cmd.hold, now=clock.now(), status=cmd.status)
        await save_copy(copy, uow)
        await uow.commit()
    return copy


async def send_copy_home(cmd: SendCopyHome, *, uow: CatalogUnitOfWork, clock: Clock) -> Copy:
    """A copy released from another branch's hold shelf, nobody to take it: IN_TRANSIT home; twice changes nothing."""
    async with uow:
        copy = await uow.copies.get(cmd.book_id, cmd.copy_id, for_update=True)
        copy.send_home(cmd.from_branch, now=clock.now())
        await save_copy(copy, uow)
        await uow.commit()
    return copy


async def receive_copy_home(cmd: ReceiveCopyHome, *, uow: CatalogUnitOfWork, clock: Clock) -> Copy:
    """A copy moving between branches scanned at a desk: AVAILABLE at its own branch; twice changes nothing."""
    async with uow:
        copy = await uow.copies.get(cmd.book_id, cmd.copy_id, for_update=True)
        copy.receive_home(cmd.branch, now=clock.now(), take_in=cmd.take_in)
        await save_copy(copy, uow)
        await uow.commit()
    return copy


async def _none_available(book_id: uuid.UUID, item_types: ItemTypeFilter, uow: CatalogUnitOfWork) -> Exception:
    if not await uow.copies.book_exists(book_id):
        return BookNotFound(book_id)
    return NoCopyAvailable(BOOK.format(book_id), item_types)
