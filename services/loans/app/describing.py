"""What the desk lists show of a hold (its book's title; its copy's barcode, branch, call number and shelf) is
kept on the hold when it is placed and when its copy is set aside, so ListHolds answers a hold shelf in one call.
A hold the catalog could not describe then (away, or a copy set aside before the hold kept it, or recorded by
a step that had only the copy's name) is described here, a few at a time, by the scheduler's passes; and a
copy the catalog changes while set aside is described again as the catalog announces it (`follow_copy`)."""

from __future__ import annotations

import logging
import uuid
from functools import partial

from services.loans.app.peers import Catalog
from services.loans.app.ports import LoansUnitOfWork
from services.loans.domain.borrowing import BookTitle, CopyInfo
from services.support.runtime.conflicts import retry_conflicts
from services.support.runtime.errors import DependencyUnavailable, NotFound

log = logging.getLogger("athenaeum.loans.describing")


async def describe_holds(*, uow: LoansUnitOfWork, catalog: Catalog, limit: int = 100) -> int:
    """Describe up to `limit` active holds that lack a title or (set aside) their copy's barcode; how many
    changed. Stops at the first sign the catalog is away: the next pass goes on."""
    async with uow.reading():
        undescribed = await uow.holds.undescribed(limit=limit)
    titles: dict[str, BookTitle] = {}
    changed = 0
    for hold in undescribed:
        try:
            copy = await catalog.get_copy(hold.copy) if hold.copy and not hold.barcode else None
            kept = BookTitle(hold.book_title, hold.book_language) if hold.book_title else None
            found = BookTitle(copy.book_title, copy.book_language) if copy and copy.book_title else None
            title = kept or found or titles.get(hold.book)
            titles[hold.book] = title or await catalog.book_title(hold.book)
        except DependencyUnavailable:
            break
        except NotFound:
            continue  # the copy or the book was deleted: the catalog's events end the hold
        changed += await retry_conflicts(partial(_keep, hold.id, copy, titles[hold.book], uow=uow))
    if changed:
        log.info("described %d holds for the desk lists", changed)
    return changed


async def _keep(hold_id: uuid.UUID, copy: CopyInfo | None, title: BookTitle, *, uow: LoansUnitOfWork) -> int:
    async with uow:
        hold = await uow.holds.get(hold_id)
        titled = hold.describe_book(title.title, title.language)
        described = copy is not None and hold.describe_copy(copy)
        if not (titled or described):
            return 0
        await uow.holds.save(hold)
        await uow.commit()
    return 1


async def follow_copy(copy: CopyInfo, *, uow: LoansUnitOfWork) -> int:
    """The catalog changed `copy` (a cataloguer moved it to another shelf or call number): the holds it is set
    aside for describe it so, for the staff who pull it and find it on the hold shelf; how many changed. A change
    heard twice, or after a newer one, changes nothing (the copy's version orders them)."""
    async with uow.reading():
        held = await uow.holds.set_aside_with(copy.name)
    changed = 0
    for hold in held:
        changed += await retry_conflicts(partial(_keep, hold.id, copy, BookTitle(""), uow=uow))
    if changed:
        log.info("%s changed in the catalog: redescribed %d holds", copy.name, changed)
    return changed
