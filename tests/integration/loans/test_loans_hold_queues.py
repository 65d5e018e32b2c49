"""Holds against real Postgres: the reconciler serves every title with a queue, a page of titles at a time; an
issue fills the patron's own hold on the title; a return whose hold is cancelled meanwhile passes its copy on."""

from __future__ import annotations

from dataclasses import replace

import pytest
from loans_world import DESK, World

from services.loans.app import queues
from services.loans.app.holding import CancelHold, PlaceHold
from services.loans.app.issuing import IssueLoan
from services.loans.app.returning import ReturnLoan
from services.loans.domain.hold_record import HoldStatus
from services.loans.domain.holds import BOOK_REMOVED
from services.support.runtime.errors import AlreadyExists

pytestmark = pytest.mark.integration


async def test_titles_with_a_queue_are_read_a_page_at_a_time_each_once(world: World) -> None:
    books = []
    for patron in ("users/p1", "users/p2"):
        for _ in range(3):
            book, (copy,) = world.catalog.add_book()
            world.catalog.copies[copy] = replace(world.catalog.copies[copy], status="IN_REPAIR")
            await world.place_hold(PlaceHold(patron, book, actor=DESK))
            books.append(book)
    await world.place_hold(PlaceHold("users/p2", books[0], actor=DESK))  # a queue of two: one title still
    pages, after = [], ""
    while page := await _page(world, after):
        pages.append(page)
        after = page[-1]
    assert [len(page) for page in pages] == [4, 2]
    assert [book for page in pages for book in page] == sorted(set(books))


async def _page(world: World, after: str) -> list[str]:
    async with world.uow().reading() as uow:
        return await uow.holds.books_with_waiting(after=after, limit=4)


async def test_a_copy_freed_for_a_title_past_the_first_page_is_trapped(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(queues, "QUEUES_PER_PAGE", 2)
    titles = []
    for _ in range(5):
        book, (copy,) = world.catalog.add_book()
        world.catalog.copies[copy] = replace(world.catalog.copies[copy], status="IN_REPAIR")
        titles.append((book, copy, await world.place_hold(PlaceHold("users/p1", book, actor=DESK))))
    last_by_name = max(titles, key=lambda title: title[0])
    freed = {book: copy for book, copy, _ in (titles[-1], last_by_name)}
    for copy in freed.values():
        world.catalog.copies[copy] = replace(world.catalog.copies[copy], status="AVAILABLE")
    report = await world.reconcile()
    assert report.holds_made_ready == len(freed)
    ready = set()
    async with world.uow().reading() as uow:
        for book, _, hold in titles:
            if (await uow.holds.get(hold.id)).status == HoldStatus.IN_TRANSIT:  # on the pull list
                ready.add(book)
    assert ready == set(freed)


async def test_an_issue_of_a_title_the_patron_waits_for_fills_their_hold(world: World) -> None:
    book, (copy,) = world.catalog.add_book()
    world.catalog.copies[copy] = replace(world.catalog.copies[copy], status="IN_REPAIR")
    hold = await world.place_hold(PlaceHold("users/p1", book, actor=DESK))
    world.catalog.copies[copy] = replace(world.catalog.copies[copy], status="AVAILABLE")  # back, not trapped yet
    loan = await world.issue(IssueLoan("users/p1", barcode=world.catalog.barcode(copy), actor=DESK))
    async with world.uow().reading() as uow:
        filled = await uow.holds.get(hold.id)
        assert await uow.holds.books_with_waiting(limit=10) == []
    assert (filled.status, filled.loan, filled.queue_position) == (HoldStatus.FULFILLED, loan.name, 0)


async def test_the_waiting_holds_of_a_deleted_book_are_cancelled_and_no_longer_count(world: World) -> None:
    book, _ = world.catalog.add_book(copies=0)
    holds = [await world.place_hold(PlaceHold(f"users/p{n}", book, actor=DESK)) for n in range(3)]
    world.catalog.remove_book(book)
    await world.reconcile()
    async with world.uow().reading() as uow:
        ended = [await uow.holds.get(hold.id) for hold in holds]
        assert await uow.holds.count_active("users/p0") == 0
    assert {(hold.status, hold.cancel_reason) for hold in ended} == {(HoldStatus.CANCELLED, BOOK_REMOVED)}


async def test_a_head_hold_cancelled_while_its_copy_comes_back_passes_the_copy_to_the_next(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    book, (copy,) = world.catalog.add_book()
    lent = await world.issue(IssueLoan("users/p1", book=book, actor=DESK))
    head = await world.place_hold(PlaceHold("users/p2", book, actor=DESK))
    later = await world.place_hold(PlaceHold("users/p3", book, actor=DESK))
    checked_in = world.catalog.check_in

    async def cancelled_meanwhile(**step: str) -> object:
        await world.cancel_hold(CancelHold(head.id, actor=DESK))  # the return chose `head` already
        return await checked_in(**step)

    monkeypatch.setattr(world.catalog, "check_in", cancelled_meanwhile)
    await world.return_loan(ReturnLoan(loan_id=lent.id, actor=DESK))
    async with world.uow().reading() as uow:
        cancelled, ready = await uow.holds.get(head.id), await uow.holds.get(later.id)
    assert cancelled.status == HoldStatus.CANCELLED and not cancelled.copy_left_on_shelf
    passed_on = (ready.status, ready.copy, world.catalog.copies[copy].current_hold)
    assert passed_on == (HoldStatus.IN_TRANSIT, copy, later.name)


async def test_a_hold_in_transit_is_active_and_its_copy_is_received_at_the_pickup_branch(world: World) -> None:
    """IN_TRANSIT is active in Postgres too: one such hold per patron and title, counted against the limit and
    by the patron's standing; a return at another branch sends the copy there, and it is READY once received."""
    book, (copy,) = world.catalog.add_book()
    lent = await world.issue(IssueLoan("users/p1", book=book, actor=DESK))
    hold = await world.place_hold(PlaceHold("users/p2", book, pickup_branch="EAST", actor=DESK))
    returned = await world.return_loan(ReturnLoan(loan_id=lent.id, branch="MAIN", actor=DESK))
    assert (returned.trapped_hold, returned.transit_branch) == (hold.name, "EAST")
    with pytest.raises(AlreadyExists):
        await world.place_hold(PlaceHold("users/p2", book, actor=DESK))
    async with world.uow().reading() as uow:
        sent = await uow.holds.get(hold.id)
        assert await uow.holds.count_active("users/p2") == 1
        assert (await uow.holds.set_aside_copies()) == {copy: (hold.name, HoldStatus.IN_TRANSIT)}
        assert (await uow.loans.standing("users/p2", item_type="*", now=world.clock.now())).ready_holds == 1
    assert (sent.status, sent.copy, world.catalog.status(copy)) == (HoldStatus.IN_TRANSIT, copy, "IN_TRANSIT")
    assert (await world.receive(copy, branch="MAIN")).status == HoldStatus.IN_TRANSIT
    assert (await world.receive(copy, branch="EAST")).status == HoldStatus.READY
    assert "hold_ready" in await world.subjects() and (await world.reconcile()).discrepancies == []
