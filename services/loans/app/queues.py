"""The reconciler's serving of every hold queue: a title whose queue waits is offered a copy when one may have
come to it other than by a return (a new copy, one back from repair, a return whose catalog step was late).

Only the titles with a copy available now are served: the catalog is asked about a page of queued titles at
once (BatchGetBookAvailability), where a ReserveCopy per queued title, each refused while every copy is out,
made each pass's work grow with the queues rather than with what changed.
"""

from __future__ import annotations

from datetime import timedelta, tzinfo
from typing import TYPE_CHECKING

from services.loans.app.peers import Catalog
from services.loans.app.ports import LoansUnitOfWork
from services.loans.app.shelf import serve_queue
from services.loans.domain.holds import BOOK_REMOVED
from services.support.runtime.clock import Clock
from services.support.runtime.errors import Conflict, DependencyUnavailable

if TYPE_CHECKING:  # the report is the reconciler's, which calls this module
    from services.loans.app.reconciling import ReconcileReport

QUEUES_PER_PAGE = 200
"""Titles with a queue read at once by the pass that serves them all (what it holds in memory)."""


async def serve_every_queue(
    report: ReconcileReport,
    *,
    uow: LoansUnitOfWork,
    clock: Clock,
    catalog: Catalog,
    zone: tzinfo,
    repairing: timedelta | None = None,
) -> None:
    """Offer every title with a queue and a copy available the copies it may have. Every title, a page at a
    time: the first few hundred alone, oldest queue first, left the others never served while those could not be.
    `repairing`: the saga timeout, for a copy the catalog set aside already by a step cut short (serve_queue)."""
    after = ""
    while True:
        async with uow.reading():
            books = await uow.holds.books_with_waiting(after=after, limit=QUEUES_PER_PAGE)
        for book in await _servable(books, catalog):
            try:
                served = await serve_queue(book, uow=uow, clock=clock, catalog=catalog, zone=zone, repairing=repairing)
            except Conflict as error:  # a copy set aside in the catalog that another hold here still names (a
                # step cut by a crash): the comparison later in the pass repairs it; the other titles are served
                report.discrepancies.append(f"{book}: its queue could not be served now ({error.message})")
                continue
            report.holds_made_ready += sum(hold.set_aside for hold in served.values())
            if removed := sum(hold.cancel_reason == BOOK_REMOVED for hold in served.values()):
                report.discrepancies.append(f"{book} is no longer in the catalog: {removed} hold(s) cancelled")
        if len(books) < QUEUES_PER_PAGE:
            return
        after = books[-1]


async def _servable(books: list[str], catalog: Catalog) -> list[str]:
    """Of `books`, those a copy may serve now, and those the catalog no longer has (serving their queue cancels
    it); none while the catalog is away (the next pass asks again)."""
    if not books:
        return []
    try:
        available = await catalog.availability(books)
    except DependencyUnavailable:
        return []
    return [book for book in books if available.get(book, 1) > 0]
