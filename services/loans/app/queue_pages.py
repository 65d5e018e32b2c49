"""A book's hold queue read a page at a time (shelf.py serves it): the first hold whose patron may have a copy
of an item type put on the hold shelf, what item types each patron of a page may have put there, and the queue of
a book removed from the catalog cancelled.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from datetime import datetime

from services.loans.app.ports import LoansUnitOfWork
from services.loans.domain.holds import BOOK_REMOVED, Hold
from services.loans.domain.item_types import ItemTypes, holdable, holdable_by_every_category
from services.loans.domain.patrons import PatronRecord
from services.loans.domain.rules import CirculationRule
from services.support.runtime.clock import Clock
from services.support.runtime.conflicts import retry_conflicts

QUEUE_PAGE = 20
"""Holds of one book's queue read at once; serving goes on a page at a time while the catalog has copies (the
first page alone left a patron behind a page of holds passed over never served)."""


async def first_to_hold(book: str, item_type: str, *, uow: LoansUnitOfWork, clock: Clock) -> Hold | None:
    """The first WAITING hold of the book, in queue order, whose patron may have a copy of `item_type` put on
    the hold shelf for them (a hold that cannot take it keeps its place); None when none may."""
    after = None
    while True:
        page, holdable_by = await queue_page(book, after, most=QUEUE_PAGE, uow=uow, clock=clock, categories=None)
        for hold in page:
            if not uow.branches.serves(hold.pickup_branch):
                continue  # picked up at a branch the library does not list: passed over, as in serve_queue
            if (item_types := holdable_by(hold.patron)) is not None and item_types.admits(item_type):
                return hold
        if len(page) < QUEUE_PAGE:
            return None
        after = page[-1].id


async def queue_page(
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
