"""ListHolds' filter and order_by (F2 of the scale findings: the hold shelf and the pull list loaded the whole
library's holds and asked the catalog and the users service for every row), and what a hold carries for the
desk lists."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from services.loans.app.describing import describe_holds
from services.loans.app.hold_queries import HoldConditions, parse_hold_filter, parse_hold_order
from services.loans.app.holding import CancelHold, ListHolds, PlaceHold, list_holds
from services.loans.domain.hold_record import HoldStatus
from services.loans.domain.patrons import PatronRecord
from services.support.runtime.errors import InvalidArgument

from ..desk import DESK, Desk, reader
from ..fakes import FakeLoansDatabase


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", HoldConditions()),
        ('pickup_branch = "East "', HoldConditions(pickup_branch="east")),
        ("pull_branch=MAIN AND to_pull = true", HoldConditions(pull_branch="main", to_pull=True)),
        ('to_pull = false AND pickup_branch = "North \\"2\\""', HoldConditions('north "2"', to_pull=False)),
    ],
)
def test_a_hold_filter_reads_branches_trimmed_in_lower_case(text: str, expected: HoldConditions) -> None:
    assert parse_hold_filter(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "status = READY",  # not a field of this filter (the request has its own)
        "pickup_branch",
        "pickup_branch = ",
        'pickup_branch = ""',
        "pickup_branch != EAST",
        "pickup_branch = EAST OR pickup_branch = WEST",
        "pickup_branch = EAST AND",
        "pickup_branch = EAST AND pickup_branch = WEST",
        "to_pull = yes",
        "pickup_branch = " + "x" * 65,
    ],
)
def test_a_bad_hold_filter_is_an_invalid_argument(text: str) -> None:
    with pytest.raises(InvalidArgument) as refused:
        parse_hold_filter(text)
    assert "x" * 65 not in str(refused.value)  # nothing unbounded echoed


def test_holds_are_ordered_by_placing_or_by_pickup_deadline_only() -> None:
    assert [parse_hold_order(text) for text in ("", "create_time", "expire_time", " expire_time asc ")] == [
        False,
        False,
        True,
        True,
    ]
    for text in ("expire_time desc", "title", "expire_time, create_time", "ready_time"):
        with pytest.raises(InvalidArgument):
            parse_hold_order(text)


async def _ready(desk: Desk, patron: str, *, title: str, branch: str) -> str:
    book, (copy,) = desk.catalog.add_book(title)
    desk.catalog.copies[copy] = replace(desk.catalog.copies[copy], branch=branch, call_number="891.7 GOG")
    await desk.place_hold(PlaceHold(patron, book, pickup_branch=branch, actor=DESK))
    return copy


async def test_the_hold_shelf_of_a_branch_is_one_list_by_deadline_with_what_its_rows_show(
    db: FakeLoansDatabase, desk: Desk
) -> None:
    db.patrons["users/p1"] = PatronRecord("users/p1", 1, "ACTIVE", display_name="Anna Petrova", card_number="2900001")
    east = await _ready(desk, "users/p1", title="Dead Souls", branch="EAST")
    await _ready(desk, "users/p2", title="The Nose", branch="WEST")
    late = await _ready(desk, "users/p3", title="The Overcoat", branch="east")
    for copy, branch in ((east, "EAST"), (late, "east")):
        await desk.receive(copy, branch=branch)
        desk.clock.advance(timedelta(days=-3))  # the second one was put on the shelf earlier: due sooner
    query = ListHolds(status=HoldStatus.READY, filter="pickup_branch = EAST", order_by="expire_time", actor=DESK)
    first = await list_holds(replace(query, page_size=1), uow=desk.uow())
    assert [hold.copy for hold in first.page.items] == [late] and first.page.total_size == 2
    second = await list_holds(replace(query, page_size=1, page_token=first.page.next_page_token), uow=desk.uow())
    (hold,) = second.page.items
    assert (hold.copy, hold.barcode, hold.book_title, hold.call_number) == (
        east,
        desk.catalog.barcode(east),
        "Dead Souls",
        "891.7 GOG",
    )
    assert second.page.next_page_token == "" and second.patrons["users/p1"].card_number == "2900001"
    with pytest.raises(InvalidArgument):  # a token is bound to its filter and order
        await list_holds(
            replace(query, filter="pickup_branch = WEST", page_token=first.page.next_page_token), uow=desk.uow()
        )
    mine = await list_holds(ListHolds(parent="users/me", actor=reader("users/p1")), uow=desk.uow())
    assert [h.copy for h in mine.page.items] == [east] and mine.patrons == {}  # no names in a reader's answer


async def test_the_pull_list_of_a_branch_lists_the_copies_to_pull_from_its_shelves(desk: Desk) -> None:
    here = await _ready(desk, "users/p1", title="Dead Souls", branch="EAST")  # pulled at EAST for EAST
    there = await _ready(desk, "users/p2", title="The Nose", branch="WEST")
    desk.catalog.copies[there] = replace(desk.catalog.copies[there], branch="WEST")
    query = ListHolds(status=HoldStatus.IN_TRANSIT, filter='pull_branch = "east"', actor=DESK)
    listed = (await list_holds(query, uow=desk.uow())).page
    assert [(h.copy, h.copy_branch) for h in listed.items] == [(here, "EAST")]
    coming = ListHolds(status=HoldStatus.IN_TRANSIT, filter="to_pull = false AND pickup_branch = EAST", actor=DESK)
    assert (await list_holds(coming, uow=desk.uow())).page.items == []


async def test_holds_kept_before_they_were_described_are_described_by_the_scheduler(
    db: FakeLoansDatabase, desk: Desk
) -> None:
    copy = await _ready(desk, "users/p1", title="Dead Souls", branch="EAST")
    (hold,) = db.holds.values()
    db.holds[hold.id] = replace(hold, book_title="", barcode="", copy_branch="", call_number="")  # as migrated
    assert await describe_holds(uow=desk.uow(), catalog=desk.catalog) == 1
    (hold,) = db.holds.values()
    assert (hold.book_title, hold.barcode, hold.copy_branch) == ("Dead Souls", desk.catalog.barcode(copy), "EAST")
    assert await describe_holds(uow=desk.uow(), catalog=desk.catalog) == 0  # nothing left: no catalog call


async def test_holds_by_deadline_put_the_ones_showing_none_last_whatever_deadline_they_once_had(
    db: FakeLoansDatabase, desk: Desk
) -> None:
    """F10 (integrator): a cancelled hold kept the deadline it had while READY, hidden by the API, and sorted first."""
    ended = await _ready(desk, "users/p1", title="Dead Souls", branch="EAST")
    ready = await _ready(desk, "users/p2", title="The Nose", branch="EAST")
    waiting = await _ready(desk, "users/p3", title="The Overcoat", branch="WEST")
    await desk.receive(ended, branch="EAST")
    desk.clock.advance(timedelta(days=2))
    await desk.receive(ready, branch="EAST")
    (cancelled,) = [h for h in db.holds.values() if h.copy == ended]
    await desk.cancel_hold(CancelHold(cancelled.id, actor=DESK))
    query = ListHolds(order_by="expire_time", actor=DESK)
    listed = [(h.copy, h.status) for h in (await list_holds(query, uow=desk.uow())).page.items]
    assert listed == [(ready, HoldStatus.READY), (ended, HoldStatus.CANCELLED), (waiting, HoldStatus.IN_TRANSIT)]
    first = await list_holds(replace(query, page_size=1), uow=desk.uow())
    rest = await list_holds(replace(query, page_size=5, page_token=first.page.next_page_token), uow=desk.uow())
    assert [h.copy for h in rest.page.items] == [ended, waiting]


async def test_a_hold_naming_no_branch_received_at_a_desk_naming_none_waits_at_the_copy_s_branch(
    db: FakeLoansDatabase, desk: Desk
) -> None:
    """F12 (integrator): it became READY at no branch: the notice named none and no hold shelf listed it."""
    book, (copy,) = desk.catalog.add_book("Dead Souls")
    desk.catalog.copies[copy] = replace(desk.catalog.copies[copy], branch="EAST")
    desk.users.home_branches["users/p1"] = ""  # self-registered: no home branch
    placed = await desk.place_hold(PlaceHold("users/p1", book, pickup_branch="", actor=DESK))
    assert placed.pickup_branch == ""
    received = await desk.receive(copy, branch="")
    assert (received.status, received.pickup_branch) == (HoldStatus.READY, "EAST")
    query = ListHolds(status=HoldStatus.READY, filter="pickup_branch = 'east'", actor=DESK)
    assert [h.copy for h in (await list_holds(query, uow=desk.uow())).page.items] == [copy]
