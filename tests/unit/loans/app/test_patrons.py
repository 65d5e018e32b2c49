"""The projection of accounts keeps the newest version of each, in whatever order events come; a closed
account's holds end with it."""

from __future__ import annotations

from services.loans.app.holding import PlaceHold
from services.loans.app.patrons import StreamSeen, follow_stream, keep_account
from services.loans.domain.hold_record import HoldStatus
from services.loans.domain.holds import ACCOUNT_CLOSED
from services.loans.domain.patrons import PatronRecord
from services.support.runtime.clock import FixedClock

from ..desk import DESK, NOW, Desk
from ..fakes import FakeLoansDatabase

CLOCK = FixedClock(NOW)


async def test_a_newer_version_replaces_an_older_one_and_never_the_reverse(db: FakeLoansDatabase) -> None:
    active = PatronRecord("users/ada", 4, "ACTIVE", patron_category="ADULT")
    blocked = PatronRecord("users/ada", 5, "BLOCKED", patron_category="ADULT")
    assert await keep_account(active, uow=db.unit_of_work(), clock=CLOCK)
    assert await keep_account(blocked, uow=db.unit_of_work(), clock=CLOCK)
    assert not await keep_account(active, uow=db.unit_of_work(), clock=CLOCK)  # the older event, delivered late
    assert not await keep_account(blocked, uow=db.unit_of_work(), clock=CLOCK)  # the same one again
    assert db.patrons["users/ada"] == blocked


async def test_the_projection_goes_on_only_from_the_stream_it_was_built_from(db: FakeLoansDatabase) -> None:
    async def follow(created: str, *, lost: bool = False) -> bool:
        return await follow_stream(StreamSeen("ATHENAEUM_USERS", created, lost_messages=lost), uow=db.unit_of_work())

    ada = PatronRecord("users/ada", 1, "ACTIVE")
    assert not await follow("2026-12-01T00:00:00Z")  # the first time: nothing to forget
    await keep_account(ada, uow=db.unit_of_work(), clock=CLOCK)
    assert not await follow("2026-12-01T00:00:00Z") and db.patrons  # the same stream, subscribed again
    assert await follow("2026-12-04T09:00:00Z") and not db.patrons  # NATS lost its storage: made again
    await keep_account(ada, uow=db.unit_of_work(), clock=CLOCK)
    assert await follow("2026-12-04T09:00:00Z", lost=True) and not db.patrons  # messages expired unread
    assert db.patron_feed == {"ATHENAEUM_USERS": "2026-12-04T09:00:00Z"}


async def test_closing_an_account_cancels_its_open_holds_and_leaves_a_shelf_copy_to_release(
    db: FakeLoansDatabase, desk: Desk
) -> None:
    shelved_book, (copy,) = desk.catalog.add_book()
    waited_book, _ = desk.catalog.add_book(copies=0)
    await desk.place_hold(PlaceHold("users/ada", shelved_book, actor=DESK))
    ready = await desk.receive(copy)
    waiting = await desk.place_hold(PlaceHold("users/ada", waited_book, actor=DESK))
    next_in_line = await desk.place_hold(PlaceHold("users/bob", shelved_book, actor=DESK))
    assert (ready.status, waiting.status) == (HoldStatus.READY, HoldStatus.WAITING)
    blocked = PatronRecord("users/ada", 2, "BLOCKED")
    assert await keep_account(blocked, uow=db.unit_of_work(), clock=CLOCK)
    assert [db.holds[hold.id].status for hold in (ready, waiting)] == [HoldStatus.READY, HoldStatus.WAITING]
    assert await keep_account(PatronRecord("users/ada", 3, "DEACTIVATED"), uow=db.unit_of_work(), clock=CLOCK)
    ended = [db.holds[hold.id] for hold in (ready, waiting)]
    assert {(hold.status, hold.cancel_reason) for hold in ended} == {(HoldStatus.CANCELLED, ACCOUNT_CLOSED)}
    assert db.event_types()[-2:] == ["HoldCancelled", "HoldCancelled"]
    await desk.reconcile()  # the shelf copy goes to the next in line
    assert db.holds[next_in_line.id].status == HoldStatus.IN_TRANSIT and db.holds[next_in_line.id].copy == copy


async def test_closing_an_account_passes_the_copy_set_aside_for_its_hold_on_at_once(
    db: FakeLoansDatabase, desk: Desk
) -> None:
    book, (copy,) = desk.catalog.add_book()
    in_transit = await desk.place_hold(PlaceHold("users/ada", book, actor=DESK))
    next_in_line = await desk.place_hold(PlaceHold("users/bob", book, actor=DESK))
    closed = PatronRecord("users/ada", 3, "DEACTIVATED")
    zone = desk.policy.time_zone
    assert await keep_account(closed, uow=db.unit_of_work(), clock=CLOCK, catalog=desk.catalog, zone=zone)
    assert db.holds[in_transit.id].status == HoldStatus.CANCELLED and not db.holds[in_transit.id].copy_left_on_shelf
    # No reconciler pass: the next reader has the copy now.
    assert (db.holds[next_in_line.id].status, db.holds[next_in_line.id].copy) == (HoldStatus.IN_TRANSIT, copy)
    assert desk.catalog.copies[copy].current_hold == next_in_line.name
