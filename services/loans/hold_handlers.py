"""Hold use cases: place (READY at once when a copy is free), read, list, cancel, and passing a shelf copy
on to the next patron in the queue. Catalog steps carry request_ids derived from the hold."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass

from services.loans.borrowing import SYSTEM, Actor
from services.loans.domain import check_patron_name, parse_name
from services.loans.handlers import Circulation, patron_scope, step_id
from services.loans.holds import Hold, HoldStatus
from services.loans.rules import WILDCARD, most_specific
from services.support.runtime import pagination
from services.support.runtime.errors import (
    AlreadyExists,
    DependencyUnavailable,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
)


@dataclass(frozen=True, slots=True)
class PlaceHold:
    patron: str
    book: str
    pickup_branch: str = ""
    request_id: uuid.UUID | None = None
    actor: Actor = SYSTEM


async def place_hold(cmd: PlaceHold, c: Circulation) -> Hold:
    """Join the book's queue; a copy goes on the hold shelf at once when one is available and nobody is ahead."""
    patron = cmd.actor.user if cmd.patron == "users/me" else cmd.patron
    check_patron_name(patron, field_name="hold.patron")
    parse_name(cmd.book, "books", field_name="hold.book")
    cmd.actor.ensure_may_act_for(patron, "place holds for")
    async with c.uow() as uow:
        if previous := await uow.requests.recall(cmd.request_id, "PlaceHold"):
            return await uow.holds.get(parse_name(previous, "holds"))
    eligibility, _title = await asyncio.gather(c.users.eligibility(patron), c.catalog.book_title(cmd.book))
    if not eligibility.eligible:
        reasons = "; ".join(eligibility.reasons) or "account not active"
        raise FailedPrecondition(f"{patron} may not place holds: {reasons}", reason="PATRON_NOT_ELIGIBLE")
    async with c.uow() as uow:
        await uow.loans.lock_patron(patron)
        terms = most_specific(await uow.rules.all(), eligibility.patron_category, WILDCARD).terms
        if not terms.holds_allowed:
            raise FailedPrecondition("holds are not allowed for this patron category", reason="HOLDS_NOT_ALLOWED")
        if await uow.loans.has_active(patron, cmd.book):
            raise AlreadyExists(f"{patron} already borrows {cmd.book}", reason="ALREADY_BORROWED")
        if await uow.holds.active_for(patron, cmd.book):
            raise AlreadyExists(f"{patron} already holds {cmd.book}", reason="HOLD_EXISTS")
        if await uow.holds.count_active(patron) >= terms.max_holds:
            raise FailedPrecondition(f"{patron} has {terms.max_holds} holds already", reason="HOLD_LIMIT_REACHED")
        hold = Hold.place(
            patron=patron,
            book=cmd.book,
            pickup_branch=cmd.pickup_branch or eligibility.home_branch,
            pickup_days=terms.hold_pickup_days,
            now=c.clock.now(),
        )
        await uow.holds.add(hold)
        await uow.requests.remember(cmd.request_id, "PlaceHold", hold.name)
        await uow.commit()
    return await make_ready_if_first(hold.id, c)


async def make_ready_if_first(hold_id: uuid.UUID, c: Circulation) -> Hold:
    """If this WAITING hold heads its queue, ask the catalog to put an available copy on the shelf for it."""
    async with c.uow() as uow:
        hold = await uow.holds.get(hold_id)
        head = await uow.holds.next_waiting(hold.book)
    if hold.status != HoldStatus.WAITING or head is None or head.id != hold.id:
        return hold
    try:
        copy = await c.catalog.reserve(
            book=hold.book, hold=hold.name, branch=hold.pickup_branch, request_id=step_id(hold.id, "reserve")
        )
    except (FailedPrecondition, NotFound, DependencyUnavailable):
        return hold  # nothing on the shelf now: it waits (a return traps a copy; the reconciler retries)
    async with c.uow() as uow:
        hold = await uow.holds.get(hold_id)
        if hold.status == HoldStatus.WAITING:
            hold.make_ready(copy.name, now=c.clock.now())
        else:  # cancelled while we asked: the copy is on the shelf for nobody
            hold.copy, hold.shelf_released = copy.name, False
        await uow.holds.save(hold)
        await uow.commit()
    if hold.copy_left_on_shelf:
        await release_and_pass_on(hold.id, c)
    return hold


async def release_and_pass_on(hold_id: uuid.UUID, c: Circulation) -> bool:
    """Take an ended hold's copy off the shelf, then offer a copy to the next in the queue; False if the
    catalog cannot be reached now (the hold keeps `shelf_released` false and the reconciler retries)."""
    async with c.uow() as uow:
        hold = await uow.holds.get(hold_id)
    if hold.copy_left_on_shelf:
        try:
            await c.catalog.release(copy=hold.copy, hold=hold.name, request_id=step_id(hold.id, "release"))
        except DependencyUnavailable:
            return False
        except (FailedPrecondition, NotFound):
            pass  # not on the shelf for this hold any more
        async with c.uow() as uow:
            hold = await uow.holds.get(hold_id)
            hold.mark_shelf_released(c.clock.now())
            await uow.holds.save(hold)
            await uow.commit()
    async with c.uow() as uow:
        head = await uow.holds.next_waiting(hold.book)
    if head is not None:
        await make_ready_if_first(head.id, c)
    return True


async def get_hold(hold_id: uuid.UUID, actor: Actor, c: Circulation) -> Hold:
    async with c.uow() as uow:
        hold = await uow.holds.get(hold_id)
    actor.ensure_may_act_for(hold.patron, "see the holds")
    return hold


@dataclass(frozen=True, slots=True)
class CancelHold:
    hold_id: uuid.UUID
    reason: str = ""
    request_id: uuid.UUID | None = None
    actor: Actor = SYSTEM


async def cancel_hold(cmd: CancelHold, c: Circulation) -> Hold:
    """WAITING or READY -> CANCELLED; a copy on the shelf goes to the next in the queue."""
    async with c.uow() as uow:
        if previous := await uow.requests.recall(cmd.request_id, "CancelHold"):
            return await uow.holds.get(parse_name(previous, "holds"))
        hold = await uow.holds.get(cmd.hold_id)
        cmd.actor.ensure_may_act_for(hold.patron, "cancel the holds")
        hold.cancel(cmd.reason or "cancelled", now=c.clock.now())
        await uow.holds.save(hold)
        await uow.requests.remember(cmd.request_id, "CancelHold", hold.name)
        await uow.commit()
    if hold.copy_left_on_shelf:
        await release_and_pass_on(hold.id, c)
    return hold


@dataclass(frozen=True, slots=True)
class ListHolds:
    parent: str = ""
    status: HoldStatus | None = None
    book: str = ""
    page_size: int = 0
    page_token: str = ""


async def list_holds(query: ListHolds, actor: Actor, c: Circulation) -> tuple[list[Hold], str, int]:
    """Queue order (oldest first); returns (holds, next_page_token, total_size)."""
    patron = patron_scope(query.parent, actor, "holds")
    size = pagination.page_size(query.page_size)
    status = query.status.value if query.status else ""
    fingerprint = pagination.fingerprint("ListHolds", patron, status, query.book)
    cursor = pagination.decode_token(query.page_token, fingerprint)
    try:
        after = int(cursor[0]) if cursor else None
    except (ValueError, IndexError, TypeError):
        raise InvalidArgument.field("page_token", "is not a token this service issued") from None
    async with c.uow() as uow:
        page, last_seq = await uow.holds.page(
            patron=patron, status=query.status, book=query.book, after=after, limit=size
        )
    token = pagination.encode_token([last_seq], fingerprint) if page.has_more else ""
    return page.items, token, page.total_size
