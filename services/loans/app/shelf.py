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
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from typing import TypeVar

from services.loans.app.peers import Catalog
from services.loans.app.ports import LoansUnitOfWork
from services.loans.app.sending_home import send_home_untaken
from services.loans.domain.borrowing import CopyInfo
from services.loans.domain.holds import BOOK_REMOVED, Hold
from services.loans.domain.item_types import ANY_ITEM_TYPE, ItemTypes, holdable, holdable_by_every_category
from services.loans.domain.patrons import PatronRecord
from services.loans.domain.rules import CirculationRule
from services.support.runtime.clock import Clock
from services.support.runtime.conflicts import retry_conflicts
from services.support.runtime.errors import DependencyUnavailable, FailedPrecondition, NotFound

log = logging.getLogger("athenaeum.loans")
T = TypeVar("T")
QUEUE_PAGE = 20
"""Holds of one book's queue read at once; serving goes on a page at a time while the catalog has copies (the
first page alone left a patron behind a page of holds passed over never served)."""


async def after_commit(step: Awaitable[T], committed: str) -> T | None:
    """A follow-up of a committed change: its failure must not make the answer deny the commit (the
    reconciler finishes what it left); None when it failed."""
    try:
        return await step
    except Exception as error:
        log.warning(
            "%s is committed; its follow-up on the hold shelf failed (%s): the reconciler repairs", committed, error
        )
        return None


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
        page, holdable_by = await _queue_page(book, after, most=most, uow=uow, clock=clock, categories=categories)
        if not await server.offer(page, holdable_by) or len(page) < most:
            return server.served
        after = page[-1].id


async def first_to_hold(book: str, item_type: str, *, uow: LoansUnitOfWork, clock: Clock) -> Hold | None:
    """The first WAITING hold of the book, in queue order, whose patron may have a copy of `item_type` put on
    the hold shelf for them (a hold that cannot take it keeps its place); None when none may."""
    after = None
    while True:
        page, holdable_by = await _queue_page(book, after, most=QUEUE_PAGE, uow=uow, clock=clock, categories=None)
        for hold in page:
            if not uow.branches.serves(hold.pickup_branch):
                continue  # picked up at a branch the library does not list: passed over, as in serve_queue
            if (item_types := holdable_by(hold.patron)) is not None and item_types.admits(item_type):
                return hold
        if len(page) < QUEUE_PAGE:
            return None
        after = page[-1].id


async def _queue_page(
    book: str,
    after: uuid.UUID | None,
    *,
    most: int,
    uow: LoansUnitOfWork,
    clock: Clock,
    categories: Mapping[str, str] | None,
) -> tuple[list[Hold], Callable[[str], ItemTypes | None]]:
    """The next `most` WAITING holds of the book behind `after` (None: from the head), and what item types each
    of their patrons may have put on the hold shelf for them (see `_holdable_by`)."""
    async with uow.reading():
        page = await uow.holds.waiting(book, limit=most, after=after)
        records = await uow.patrons.of({hold.patron for hold in page}) if page else []
        rules = await uow.rules.in_force() if page else []
    return page, _holdable_by(records, rules, now=clock.now(), categories=categories or {})


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
                # names the branch until it is listed or the hold is placed again at one that is.
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


def _holdable_by(
    records: list[PatronRecord], rules: list[CirculationRule], *, now: datetime, categories: Mapping[str, str]
) -> Callable[[str], ItemTypes | None]:
    """What item types a patron of the queue may have put on the hold shelf for them; None for a patron whose
    account may not borrow now (blocked, expired, closed) by the projection of accounts: a copy trapped for
    them would sit on the hold shelf for someone the desk must refuse. A patron without a record (no
    projection, or not yet) is served, as before, with the item types every category may hold."""
    eligible = {record.patron: record.lending_eligibility(now) for record in records}
    by_category: dict[str, ItemTypes] = {}

    def holdable_for(patron: str) -> ItemTypes | None:
        category = categories.get(patron, "")
        if patron in eligible:
            if (eligibility := eligible[patron]) is None:
                return None
            category = category or eligibility.patron_category
        if category not in by_category:
            by_category[category] = holdable(rules, category) if category else holdable_by_every_category(rules)
        return by_category[category]

    return holdable_for


async def cancel_queue_of_removed_book(book: str, *, uow: LoansUnitOfWork, clock: Clock) -> dict[uuid.UUID, Hold]:
    """The book is gone from the catalog (its delete is refused only while a copy is out or on the hold shelf):
    its WAITING holds are cancelled, a page at a time. Left waiting they would never end, each taking one of
    its patron's holds allowed."""
    cancelled: dict[uuid.UUID, Hold] = {}
    while page := await retry_conflicts(lambda: _cancel_waiting(book, uow=uow, clock=clock)):
        cancelled.update((hold.id, hold) for hold in page)
    return cancelled


async def _cancel_waiting(book: str, *, uow: LoansUnitOfWork, clock: Clock) -> list[Hold]:
    async with uow:
        queue = await uow.holds.waiting(book, limit=QUEUE_PAGE)
        for hold in queue:
            hold.cancel(BOOK_REMOVED, now=clock.now())
            await uow.holds.save(hold)
        await uow.commit()
    return queue


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
    where = _Where(at_desk, hold_shelf_branch, copy_branch, described)
    hold, extra = await retry_conflicts(
        lambda: _record_shelf_copy(hold_id, copy, in_transit, where, uow=uow, clock=clock, zone=zone)
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


def sent_from_a_desk(copy: CopyInfo) -> str | None:
    """For `shelved`: a copy the catalog checked in and sent on for its hold was set aside at a desk (which one
    is not known: ""), not on the open shelf (None): a hold recording it late (a return whose last step did not
    run, repaired) reads as on its way, not to pull."""
    return "" if copy.in_transit and copy.sent else None


async def taken_from(copy: CopyInfo, *, uow: LoansUnitOfWork, within: timedelta) -> tuple[str | None, str]:
    """Where the catalog took `copy` from when it set it aside for a hold, for `shelved` (`at_desk`,
    `hold_shelf_branch`), when the step that did it is not the caller (a crash cut it before loans recorded it).
    Checked in and sent on by a desk; or, set aside from AVAILABLE `within` the saga's time of loans releasing it
    from an ended hold (a READY hold cancelled, its copy passed on to the next: finding C2), where that hold left
    it, on its hold shelf or in the van (the catalog keeps no trace of it: recorded as on the open shelf, staff
    were sent to look there for a copy on the hold shelf); else the open shelf of its branch."""
    if (at_desk := sent_from_a_desk(copy)) is not None or not copy.in_transit:
        return at_desk, ""
    async with uow.reading():
        ended = await uow.holds.last_ended_with(copy.name)
    if ended is None or not ended.shelf_released:
        return None, ""
    if copy.changed_at is not None and abs(copy.changed_at - ended.updated_at) > within:
        return None, ""  # set aside long after: back on the open shelf in between (sent home, lent, ...)
    return passed_on_from(ended)


def passed_on_from(ended: Hold) -> tuple[str | None, str]:
    """For `shelved`, where the copy of an ended hold, released, is when passed on to the next hold: (`at_desk`,
    `hold_shelf_branch`). On the hold shelf it was put on (to pull from there), in the van to the branch a desk sent
    it to (sent on from there when it arrives), else (None, ""): back on the open shelf."""
    if ended.hold_shelf_of_copy:
        return None, ended.hold_shelf_of_copy
    if ended.copy_sent_to:
        return ended.copy_sent_to, ""
    return None, ""


@dataclass(frozen=True, slots=True)
class _Where:
    """Where a copy set aside for a hold is: checked in at a desk (`at_desk`, sent on when in transit), or to
    pull from a hold shelf (`hold_shelf`, a READY hold's copy passed on) or the open shelf of `copy_branch`."""

    at_desk: str | None
    hold_shelf: str
    copy_branch: str
    described: CopyInfo | None = None

    @property
    def leaves_from(self) -> str:
        return (self.at_desk if self.at_desk is not None else self.hold_shelf or self.copy_branch).strip()

    @property
    def waits_at(self) -> str:
        """Where a hold that names no pickup branch waits when the copy goes on a hold shelf: the desk's branch,
        else (a desk that names none) the copy's own, so the reader is told a branch and its hold shelf lists it."""
        owner = self.copy_branch or (self.described.branch if self.described is not None else "")
        return (self.at_desk or "").strip() or owner.strip()


async def _record_shelf_copy(
    hold_id: uuid.UUID,
    copy: str,
    in_transit: bool,
    where: _Where,
    *,
    uow: LoansUnitOfWork,
    clock: Clock,
    zone: tzinfo,
) -> tuple[Hold, str]:
    async with uow:
        hold = await uow.holds.get(hold_id)
        if hold.copy == copy:
            return hold, ""  # known already (a twin, or the reconciler, got there first)
        closed = await uow.closed_days.in_force()
        if not hold.take_shelf_copy(
            copy,
            in_transit=in_transit,
            now=clock.now(),
            zone=zone,
            at_branch=where.waits_at,
            sent=where.at_desk is not None,
            from_branch=where.leaves_from,
            hold_shelf_branch="" if where.at_desk is not None else where.hold_shelf,
            closed=closed,
        ):
            return hold, copy
        if where.described is not None:
            hold.describe_copy(where.described)
        await uow.holds.save(hold)
        await uow.commit()
    return hold, ""


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
