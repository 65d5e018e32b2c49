"""ListHolds against real Postgres (F2 of the scale findings): a branch's hold shelf by pickup deadline and its
pull list by the copy's branch, page by page, with what the rows show kept on each hold."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, timedelta

import pytest
from loans_world import DESK, World

from services.loans.app.describing import follow_copy
from services.loans.app.holding import ListHolds, PlaceHold, list_holds
from services.loans.domain.hold_record import HOLD, HoldStatus
from services.loans.domain.patrons import PatronRecord
from services.support.runtime.errors import InvalidArgument

pytestmark = pytest.mark.integration
_EVERY_OTHER = ("WEST", " East")


async def _in_transit(world: World, patron: str, *, title: str, branch: str, copy_branch: str) -> str:
    book, (copy,) = world.catalog.add_book(title)
    world.catalog.copies[copy] = replace(world.catalog.copies[copy], branch=copy_branch, shelf_location="B2")
    hold = await world.place_hold(PlaceHold(patron, book, pickup_branch=branch, actor=DESK))
    assert hold.status == HoldStatus.IN_TRANSIT
    return hold.name


async def _make_ready(world: World, name: str, *, days_ago: int) -> None:
    async with world.uow() as uow:
        hold = await uow.holds.get(HOLD.parse_id(name))
        hold.receive(hold.copy, now=world.clock.now() - timedelta(days=days_ago), zone=UTC)
        await uow.holds.save(hold)
        await uow.commit()


async def _walk(world: World, query: ListHolds) -> list[list[str]]:
    pages, token = [], ""
    while True:
        listed = await list_holds(replace(query, page_token=token, page_size=2), uow=world.uow())
        pages.append([hold.name for hold in listed.page.items])
        token = listed.page.next_page_token
        if not token:
            return pages


async def test_a_branch_hold_shelf_is_read_by_deadline_a_page_at_a_time(world: World) -> None:
    async with world.uow() as uow:
        await uow.patrons.keep_newer(PatronRecord("users/p1", 1, "ACTIVE", display_name="Ada", card_number="29001"))
        await uow.commit()
    names = [
        await _in_transit(
            world, f"users/p{n}", title=f"Title {n}", branch=" East" if n % 2 else "WEST", copy_branch="EAST"
        )
        for n in range(1, 7)
    ]
    east = names[0::2]  # p1, p3, p5: picked up at EAST
    for days_ago, name in zip((1, 3, 2), east, strict=True):
        await _make_ready(world, name, days_ago=days_ago)
    await _make_ready(world, names[1], days_ago=5)  # WEST's: not on EAST's shelf
    query = ListHolds(status=HoldStatus.READY, filter='pickup_branch = "east"', order_by="expire_time", actor=DESK)
    assert await _walk(world, query) == [[east[1], east[2]], [east[0]]]  # soonest deadline first
    first = await list_holds(replace(query, page_size=1), uow=world.uow())
    (hold,) = first.page.items
    assert (hold.book_title, hold.copy_branch, hold.shelf_location) == ("Title 3", "EAST", "B2") and hold.barcode
    listed = await list_holds(replace(query, order_by=""), uow=world.uow())
    assert [h.name for h in listed.page.items] == east and listed.page.total_size == 3
    assert listed.patrons["users/p1"].display_name == "Ada"
    with pytest.raises(InvalidArgument):  # bound to its order
        await list_holds(replace(query, order_by="", page_token=first.page.next_page_token), uow=world.uow())

    pull = ListHolds(status=HoldStatus.IN_TRANSIT, filter="pull_branch = EAST", actor=DESK)
    assert await _walk(world, pull) == [[names[3], names[5]]]  # the WEST holds still to pull from EAST's shelves
    assert await _walk(world, replace(pull, filter="pull_branch = WEST")) == [[]]


async def test_the_pull_list_follows_a_held_copy_a_cataloguer_moves_in_the_order_of_its_versions(
    world: World,
) -> None:
    name = await _in_transit(world, "users/p1", title="Moved", branch="WEST", copy_branch="EAST")
    async with world.uow() as uow:
        copy = world.catalog.copies[(await uow.holds.get(HOLD.parse_id(name))).copy]
    newer = replace(copy, shelf_location="Z9", call_number="NEW 2", version=copy.version + 2)
    assert await follow_copy(newer, uow=world.uow()) == 1
    assert await follow_copy(replace(newer, shelf_location="M5", version=copy.version + 1), uow=world.uow()) == 0
    assert await follow_copy(newer, uow=world.uow()) == 0  # redelivered
    pull = await list_holds(
        ListHolds(status=HoldStatus.IN_TRANSIT, filter="pull_branch = EAST", actor=DESK), uow=world.uow()
    )
    (hold,) = pull.page.items
    assert (hold.shelf_location, hold.call_number, hold.copy_version) == ("Z9", "NEW 2", copy.version + 2)


async def test_holds_by_deadline_list_the_ones_showing_none_last_against_postgres(world: World) -> None:
    """F10 (integrator): ended holds keep the deadline they had while READY; the list sorts by the one shown."""
    names = [
        await _in_transit(world, f"users/d{n}", title=f"Deadline {n}", branch="EAST", copy_branch="EAST")
        for n in range(3)
    ]
    await _make_ready(world, names[0], days_ago=5)  # the soonest stored deadline, then cancelled
    await _make_ready(world, names[1], days_ago=1)
    async with world.uow() as uow:
        hold = await uow.holds.get(HOLD.parse_id(names[0]))
        hold.cancel("the reader changed their mind", now=world.clock.now())
        await uow.holds.save(hold)
        await uow.commit()
    query = ListHolds(filter='pickup_branch = "east"', order_by="expire_time", actor=DESK)
    assert await _walk(world, query) == [[names[1], names[0]], [names[2]]]
    ready_only = replace(query, status=HoldStatus.READY)
    assert await _walk(world, ready_only) == [[names[1]]]
