"""The hold shelf: a copy set aside for the head of a book's queue (in transit to the hold shelf when taken from
the open shelf, see receiving.py; on it when trapped by a return at the pickup desk), taken off when its hold ends
without a loan, and passed on to the next patron. Each catalog step is idempotent per hold: a repeat finds what
the first did.

The catalog is told first and loans records it after, so a crash in between leaves a copy on the shelf
that loans does not know of: the reconciler compares the shelf with the holds on every pass and repairs.
"""

from __future__ import annotations

import contextlib
import logging
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta, tzinfo

from services.loans.app.peers import Catalog
from services.loans.app.ports import LoansUnitOfWork
from services.loans.app.queue_pages import QUEUE_PAGE, cancel_queue_of_removed_book, queue_page
from services.loans.app.sending_home import send_home_untaken
from services.loans.app.set_aside_from import passed_on_from, sent_from_a_desk, taken_from
from services.loans.app.set_aside_record import Where, record_shelf_copy
from services.loans.domain.borrowing import CopyInfo
from services.loans.domain.holds import Hold
from services.loans.domain.item_types import ANY_ITEM_TYPE, ItemTypes
from services.support.runtime.clock import Clock
from services.support.runtime.conflicts import retry_conflicts
from services.support.runtime.errors import DependencyUnavailable, FailedPrecondition, NotFound

log = logging.getLogger("athenaeum.loans")


async def serve_queue(
    book: str,
    *,
    uow: LoansUnitOfWork,
    clock: Clock,
    catalog: Catalog,
    zone: tzinfo,
    most: int = QUEUE_PAGE,
    categories: Mapping[str, str] | None = None,
    hold_shelves: Mapping[str, str] | None = None,
    in_transit_to: Mapping[str, str] | None = None,
    repairing: timedelta | None = None,
) -> dict[uuid.UUID, Hold]:
    """Offer copies to the book's WAITING holds, in queue order, while the catalog has one available: the
    holds looked at, by id, as they are now. (Copies come back at once, to a hold asked for by several
    returns at once, or to nobody: whoever frees a copy serves the whole queue, not only its head.)

    Each hold is offered only a copy of a type its patron may hold (`categories`: patron categories known
    to the caller, else the projection of accounts says); the queue is read `most` holds at a time. A hold
    served is IN_TRANSIT: its copy is on the open shelf, for staff to pull and bring to the pickup desk (READY
    once received there, until the end of the library's day, in `zone`, its pickup days later). `hold_shelves`:
    copies released from a hold shelf, by name, with its branch: a hold served one pulls it from there.
    `in_transit_to`: copies released while in the van, by name, with the branch they are on their way to: a hold
    served one has it sent on from there, not pulled from any shelf (finding F4). `repairing` (the reconciler's
    serving, with its saga timeout): a copy the catalog had set aside for a hold already (a step cut by a crash) is
    recorded where that step took it from (`taken_from`)."""
    server = _QueueServer(
        book,
        uow,
        clock,
        catalog,
        zone,
        hold_shelves=hold_shelves or {},
        in_transit_to=in_transit_to or {},
        repairing=repairing,
    )
    after = None
    while True:
        page, holdable_by = await queue_page(book, after, most=most, uow=uow, clock=clock, categories=categories)
        if not await server.offer(page, holdable_by) or len(page) < most:
            return server.served
        after = page[-1].id


@dataclass(slots=True)
class _QueueServer:
    """One serving of a book's queue, page after page: what it served, and the item types found out of stock."""

    book: str
    uow: LoansUnitOfWork
    clock: Clock
    catalog: Catalog
    zone: tzinfo
    hold_shelves: Mapping[str, str] = field(default_factory=dict)
    """Copies released from a hold shelf, by name: the branch whose hold shelf each sits on."""
    in_transit_to: Mapping[str, str] = field(default_factory=dict)
    """Copies released while in the van, by name: the branch each is on its way to."""
    repairing: timedelta | None = None
    """The reconciler's serving: see `serve_queue`."""
    served: dict[uuid.UUID, Hold] = field(default_factory=dict)
    none_of: set[ItemTypes] = field(default_factory=set)
    """The item types the catalog has no copy of for now."""

    async def offer(self, page: list[Hold], holdable_by: Callable[[str], ItemTypes | None]) -> bool:
        """Offer a copy to each hold of the page in turn; False when no more can be served now."""
        for hold in page:
            if not self.uow.branches.serves(hold.pickup_branch):
                # Picked up at a branch the library does not list (placed before the list, finding upgrade F2):
                # no desk may receive a copy there, so none is sent; the hold keeps its place and the reconciler
                # names the branch until it is listed or the hold's pickup branch is changed to one that is.
                continue
            item_types = holdable_by(hold.patron)
            if item_types is None or item_types.admits_none or item_types in self.none_of:
                continue  # its place kept: served by a later copy once the account may borrow (that) again
            try:
                # The catalog keeps one shelf copy per hold (a repeat gets the same copy), and a refusal now ("none
                # available") is no answer for a later try: there is nothing a request_id could add.
                copy = await self.catalog.reserve(
                    book=self.book, hold=hold.name, branch=hold.pickup_branch, item_types=item_types
                )
            except NotFound:  # ReserveCopy's NOT_FOUND: no such book (deleted from the catalog)
                self.served.update(await cancel_queue_of_removed_book(self.book, uow=self.uow, clock=self.clock))
                return False
            except DependencyUnavailable:
                return False  # the rest wait (a return traps a copy; the reconciler retries)
            except FailedPrecondition:
                if item_types == ANY_ITEM_TYPE:
                    return False  # nothing more on the shelf now
                self.none_of.add(item_types)  # none of these; a patron who may hold other types may still be served
                continue
            at_desk, hold_shelf = await self._taken_from(copy)
            self.served[hold.id] = await shelved(
                hold.id,
                copy.name,
                in_transit=copy.in_transit,
                at_desk=at_desk,
                copy_branch=copy.branch,
                hold_shelf_branch=hold_shelf,
                described=copy,
                uow=self.uow,
                clock=self.clock,
                catalog=self.catalog,
                zone=self.zone,
            )
        return True

    async def _taken_from(self, copy: CopyInfo) -> tuple[str | None, str]:
        """Where the reserved copy is, for `shelved`: as the caller released it (one in the van is sent on where
        it arrives, one off a hold shelf pulled from there); a repeat's answer: a return may have sent it already,
        or (`repairing`) a pass-on cut by a crash took it off a hold shelf."""
        if copy.name in self.in_transit_to:
            return self.in_transit_to[copy.name], ""
        if copy.name in self.hold_shelves:
            return None, self.hold_shelves[copy.name]
        if self.repairing is None:
            return sent_from_a_desk(copy), ""
        return await taken_from(copy, uow=self.uow, within=self.repairing)


async def shelved(
    hold_id: uuid.UUID,
    copy: str,
    *,
    in_transit: bool = False,
    at_desk: str | None = None,
    copy_branch: str = "",
    hold_shelf_branch: str = "",
    described: CopyInfo | None = None,
    uow: LoansUnitOfWork,
    clock: Clock,
    catalog: Catalog,
    zone: tzinfo,
) -> Hold:
    """The catalog has `copy` set aside for the hold, on the hold shelf (or `in_transit` to it): record it (READY,
    until the end of a library day in `zone`, or IN_TRANSIT; or an ended hold's copy to take off the shelf), and
    take off at once a copy the hold does not need. `at_desk`: checked in at a desk of that branch (a copy in
    transit is then sent, not to pull; a hold with no pickup branch waits there), None: set aside on the open
    shelf of `copy_branch` (or the hold shelf of `hold_shelf_branch`, a READY hold's copy passed on).
    `described`: the catalog's answer about the copy, kept on the hold for the desk lists (else the scheduler
    asks for it later: describing.py)."""
    where = Where(at_desk, hold_shelf_branch, copy_branch, described)
    hold, extra = await retry_conflicts(
        lambda: record_shelf_copy(hold_id, copy, in_transit, where, uow=uow, clock=clock, zone=zone)
    )
    if extra:
        await release_extra(hold, extra, catalog=catalog)
    elif hold.copy_left_on_shelf:
        await release_and_pass_on(hold.id, uow=uow, clock=clock, catalog=catalog, zone=zone)
    elif not hold.is_active:
        await _release_again(hold, copy, uow=uow, clock=clock, catalog=catalog, zone=zone)
    return hold


async def _release_again(
    hold: Hold, copy: str, *, uow: LoansUnitOfWork, clock: Clock, catalog: Catalog, zone: tzinfo
) -> None:
    """The hold ended and its copy's release is done, yet the catalog has just put `copy` on the shelf for it:
    a serving of the queue that read the hold as WAITING before it was cancelled (or filled) reserved for it
    after the release (the catalog keeps no memory of released holds; a repeat of a reservation finds no copy
    on the shelf for the hold and takes one). Released again at once and passed on, as when the hold ended:
    left there, the copy stayed on the shelf for nobody until the reconciler's next pass. The catalog releases
    it only while it is on the shelf for this hold, so a late twin of the first reservation changes nothing."""
    try:
        await catalog.release(copy=copy, hold=hold.name)
    except DependencyUnavailable:
        return  # the reconciler finds it on the shelf for an ended hold and releases it
    except (FailedPrecondition, NotFound):
        return  # not on the shelf for this hold: nothing to pass on
    log.info("%s was put on the hold shelf again for %s, which had ended: released", copy, hold.name)
    await serve_queue(hold.book, uow=uow, clock=clock, catalog=catalog, zone=zone)


async def release_extra(hold: Hold, copy: str, *, catalog: Catalog) -> None:
    """Take off the shelf a copy put there for a hold that has one already (two steps raced to serve it)."""
    # Unreachable: the reconciler takes it off later; refused: it is not on the shelf for this hold.
    with contextlib.suppress(DependencyUnavailable, FailedPrecondition, NotFound):
        await catalog.release(copy=copy, hold=hold.name)


async def release_and_pass_on(
    hold_id: uuid.UUID, *, uow: LoansUnitOfWork, clock: Clock, catalog: Catalog, zone: tzinfo
) -> bool:
    """Take an ended hold's copy off the shelf, then offer a copy to the next in the queue; False if the
    catalog cannot be reached now (the hold keeps `shelf_released` false and the reconciler retries)."""
    async with uow:
        hold = await uow.holds.get(hold_id)
    hold_shelves: dict[str, str] = {}
    in_vans: dict[str, str] = {}
    if hold.copy_left_on_shelf:
        try:
            released = await catalog.release(copy=hold.copy, hold=hold.name)
        except DependencyUnavailable:
            return False
        except (FailedPrecondition, NotFound):
            pass  # not on the shelf for this hold any more
        else:  # a copy taken off a hold shelf is pulled from there by the next hold, not from the open shelf;
            # one in the van (F4) is sent on from where it arrives, or home from there: only a copy to pull from
            # the open shelf is back there, AVAILABLE
            at_desk, hold_shelf = passed_on_from(hold)
            if released.status == "AVAILABLE" and hold_shelf:
                hold_shelves[released.name] = hold_shelf
            elif released.status == "AVAILABLE" and at_desk:
                in_vans[released.name] = at_desk
        await retry_conflicts(lambda: _mark_released(hold_id, uow=uow, clock=clock))
    served = await serve_queue(
        hold.book, uow=uow, clock=clock, catalog=catalog, zone=zone, hold_shelves=hold_shelves, in_transit_to=in_vans
    )
    await send_home_untaken({**hold_shelves, **in_vans}, served, catalog=catalog)  # not at its own branch
    return True


async def _mark_released(hold_id: uuid.UUID, *, uow: LoansUnitOfWork, clock: Clock) -> None:
    async with uow:
        hold = await uow.holds.get(hold_id)
        if hold.copy_left_on_shelf:
            hold.mark_shelf_released(clock.now())
            await uow.holds.save(hold)
            await uow.commit()
