"""Hold use cases: place (READY at once when a copy is free), read, list, cancel. What happens on the hold
shelf (a copy put there, released, passed on to the next in the queue) is in shelf.py."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import tzinfo

from services.loans.app.follow_ups import after_commit
from services.loans.app.hold_queries import HoldConditions, hold_cursor_after, parse_hold_filter, parse_hold_order
from services.loans.app.list_requests import HoldFilter, PageRequest
from services.loans.app.peers import Catalog, Users
from services.loans.app.ports import LoansUnitOfWork
from services.loans.app.shelf import release_and_pass_on, serve_queue
from services.loans.domain.actors import SYSTEM, Actor, patron_scope
from services.loans.domain.borrowing import (
    BOOK,
    NO_LIMITS,
    BookTitle,
    BorrowingPolicy,
    ensure_eligible,
    ensure_in_good_standing,
)
from services.loans.domain.branches import ANY_BRANCH, LibraryBranches
from services.loans.domain.hold_record import HOLD, HoldStatus
from services.loans.domain.holds import Hold
from services.loans.domain.item_types import hold_terms
from services.loans.domain.patrons import PatronRecord
from services.loans.domain.rules import WILDCARD, most_specific
from services.support.runtime.clock import Clock
from services.support.runtime.errors import AlreadyExists, DependencyUnavailable, FailedPrecondition, NotFound
from services.support.runtime.identity import ME
from services.support.runtime.names import check_reference
from services.support.runtime.pagination import fingerprint, page_size
from services.support.runtime.paging import Page


@dataclass(frozen=True, slots=True)
class PlaceHold:
    patron: str
    book: str
    pickup_branch: str = ""
    request_id: uuid.UUID | None = None
    actor: Actor = SYSTEM


async def place_hold(
    cmd: PlaceHold,
    *,
    uow: LoansUnitOfWork,
    clock: Clock,
    users: Users,
    catalog: Catalog,
    policy: BorrowingPolicy = NO_LIMITS,
    branches: LibraryBranches = ANY_BRANCH,
) -> Hold:
    """Join the book's queue; a copy goes on the hold shelf at once when one is available and nobody is ahead.
    Picked up at one of the library's `branches` (the patron's home branch when the command names none)."""
    patron = cmd.actor.user if cmd.patron == ME else cmd.patron
    check_reference(patron, "users", field="hold.patron")
    BOOK.parse(cmd.book, field="hold.book")
    cmd.actor.ensure_may_act_for(patron, "place holds for")
    async with uow:
        if previous := await uow.requests.recall(cmd.request_id, "PlaceHold"):
            return await uow.holds.get(HOLD.parse_id(previous))
    eligibility = await users.eligibility(patron)
    copies = await catalog.copies_of(cmd.book)  # NotFound for a book the catalog does not have
    title = await _title_of(cmd.book, catalog)
    ensure_eligible(eligibility, patron=patron, what="place holds")
    pickup_branch = branches.ensure_pickup(cmd.pickup_branch, home_branch=eligibility.home_branch)
    async with uow:
        await uow.loans.lock_patron(patron)
        # Under the rules of the title's item types that may be lent: refused when none of its copies may be
        # held, reference copies (an item type not for loan) never serving a hold.
        kept = [copy for copy in copies if copy.in_collection]
        item_types = {copy.item_type for copy in kept if not copy.not_for_loan}
        reference = {copy.item_type for copy in kept if copy.not_for_loan}
        rules = await uow.rules.in_force()
        terms = hold_terms(rules, eligibility.patron_category, item_types, not_for_loan=reference)
        if await uow.loans.has_active(patron, cmd.book):
            raise AlreadyExists(f"{patron} already borrows {cmd.book}", reason="ALREADY_BORROWED")
        if await uow.holds.active_for(patron, cmd.book):
            raise AlreadyExists(f"{patron} already holds {cmd.book}", reason="HOLD_EXISTS")
        # What blocks a loan blocks a hold: its copy would be trapped for a patron the desk then refused.
        standing = await uow.loans.standing(patron, item_type=WILDCARD, now=clock.now())
        general = most_specific(rules, eligibility.patron_category, WILDCARD).terms
        ensure_in_good_standing(patron, standing, general, policy)
        if await uow.holds.count_active(patron) >= terms.max_holds:
            raise FailedPrecondition(f"{patron} has {terms.max_holds} holds already", reason="HOLD_LIMIT_REACHED")
        hold = Hold.place(
            patron=patron,
            book=cmd.book,
            pickup_branch=pickup_branch,
            pickup_days=terms.pickup_days,
            now=clock.now(),
            book_title=title.title,
            book_language=title.language,
        )
        await uow.holds.add(hold)
        await uow.requests.remember(cmd.request_id, "PlaceHold", hold.name)
        await uow.commit()
    categories = {patron: eligibility.patron_category}
    served = serve_queue(cmd.book, uow=uow, clock=clock, catalog=catalog, zone=policy.time_zone, categories=categories)
    await after_commit(served, hold.name)
    return await after_commit(_as_it_is(hold.id, uow), hold.name) or hold


async def _title_of(book: str, catalog: Catalog) -> BookTitle:
    """The title the hold keeps for the lists (no GetBook per row there); "" when the catalog cannot say now:
    the scheduler describes the hold later (describing.py)."""
    try:
        return await catalog.book_title(book)
    except (NotFound, DependencyUnavailable):
        return BookTitle("")


async def _as_it_is(hold_id: uuid.UUID, uow: LoansUnitOfWork) -> Hold:
    """The hold with its queue position (or READY, when a copy went on the shelf for it)."""
    async with uow:
        return await uow.holds.get(hold_id)


@dataclass(frozen=True, slots=True)
class GetHold:
    hold_id: uuid.UUID
    actor: Actor = SYSTEM


async def get_hold(cmd: GetHold, *, uow: LoansUnitOfWork) -> Hold:
    """One hold with its queue position; readers only their own."""
    async with uow:
        hold = await uow.holds.get(cmd.hold_id)
    cmd.actor.ensure_may_act_for(hold.patron, "see the holds")
    return hold


@dataclass(frozen=True, slots=True)
class CancelHold:
    hold_id: uuid.UUID
    reason: str = ""
    request_id: uuid.UUID | None = None
    actor: Actor = SYSTEM


async def cancel_hold(cmd: CancelHold, *, uow: LoansUnitOfWork, clock: Clock, catalog: Catalog, zone: tzinfo) -> Hold:
    """WAITING or READY -> CANCELLED; a copy on the shelf goes to the next in the queue (ready until the end of
    a library day, in `zone`)."""
    async with uow:
        previous = await uow.requests.recall(cmd.request_id, "CancelHold")
        hold = await uow.holds.get(HOLD.parse_id(previous) if previous else cmd.hold_id)
        cmd.actor.ensure_may_act_for(hold.patron, "cancel the holds")  # a retry too: the id is no pass
        if previous:
            return hold
        hold.cancel(cmd.reason or "cancelled", now=clock.now(), by_patron=cmd.actor.user == hold.patron)
        await uow.holds.save(hold)
        await uow.requests.remember(cmd.request_id, "CancelHold", hold.name)
        await uow.commit()
    if hold.copy_left_on_shelf:
        passed_on = release_and_pass_on(hold.id, uow=uow, clock=clock, catalog=catalog, zone=zone)
        await after_commit(passed_on, hold.name)
    return hold


@dataclass(frozen=True, slots=True)
class ListHolds:
    parent: str = ""
    status: HoldStatus | None = None
    book: str = ""
    filter: str = ""
    order_by: str = ""
    page_size: int = 0
    page_token: str = ""
    actor: Actor = SYSTEM


@dataclass(frozen=True, slots=True)
class ListedHolds:
    """A page of holds, with the accounts of their patrons as loans knows them, for staff only (a reader sees
    no one's name, not even another reader's on a shared queue)."""

    page: Page[Hold]
    patrons: Mapping[str, PatronRecord]


async def list_holds(cmd: ListHolds, *, uow: LoansUnitOfWork) -> ListedHolds:
    """Placing order (oldest first), or soonest pickup deadline first; filtered by branch (hold_queries)."""
    patron = patron_scope(cmd.parent, cmd.actor, "holds")
    size = page_size(cmd.page_size)
    status = cmd.status.value if cmd.status else ""
    conditions = parse_hold_filter(cmd.filter)
    by_deadline = parse_hold_order(cmd.order_by)
    # Without a filter or an order the token is the one issued before they existed, so a walk goes on.
    extra = (conditions, by_deadline) if conditions != HoldConditions() or by_deadline else ()
    query = fingerprint("ListHolds", patron, status, cmd.book, *extra)
    page = PageRequest(size, hold_cursor_after(cmd.page_token, query, by_deadline=by_deadline), query)
    where = HoldFilter(patron, cmd.status, cmd.book, where=conditions, by_deadline=by_deadline)
    async with uow:
        listed = await uow.holds.list_in_queue_order(where, page=page)
        names = {hold.patron for hold in listed.items} if cmd.actor.is_staff else set()
        records = await uow.patrons.of(sorted(names)) if names else []
    return ListedHolds(listed, {record.patron: record for record in records})
