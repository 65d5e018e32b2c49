"""Holds: ready on the shelf for the pickup window, expiry, fulfilment, cancelling."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest

from services.loans.domain.hold_events import HoldExpired, HoldReady
from services.loans.domain.hold_record import HoldStatus
from services.loans.domain.holds import Hold
from services.loans.domain.periods import MAX_PERIOD_DAYS
from services.support.runtime.errors import FailedPrecondition

NOW = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)


def hold() -> Hold:
    return Hold.place(patron="users/p", book="books/b", pickup_branch="MAIN", pickup_days=3, now=NOW)


def test_a_ready_hold_waits_on_the_shelf_for_the_pickup_window_then_expires() -> None:
    waiting = hold()
    waiting.make_ready("books/b/copies/c", now=NOW, zone=UTC)
    last_second = datetime(2026, 11, 24, 23, 59, 59, tzinfo=UTC)  # the end of the third day after
    assert waiting.status == HoldStatus.READY and waiting.expire_at == last_second
    assert isinstance(waiting.events[-1], HoldReady)
    assert not waiting.expire(now=NOW + timedelta(days=3))
    assert not waiting.expire(now=last_second)  # its last second is still in time
    assert waiting.expire(now=last_second + timedelta(seconds=1))
    assert isinstance(waiting.events[-1], HoldExpired)
    assert waiting.copy_left_on_shelf  # until the catalog releases it


def test_a_hold_fulfilled_with_its_copy_leaves_nothing_on_the_shelf() -> None:
    ready = hold()
    ready.make_ready("books/b/copies/c", now=NOW, zone=UTC)
    ready.fulfil("loans/l", copy="books/b/copies/c", now=NOW)
    assert ready.status == HoldStatus.FULFILLED and not ready.copy_left_on_shelf
    with pytest.raises(FailedPrecondition):
        ready.cancel("changed my mind", now=NOW)


def test_a_hold_fulfilled_with_another_copy_leaves_its_own_on_the_shelf_to_release() -> None:
    ready = hold()
    ready.make_ready("books/b/copies/c", now=NOW, zone=UTC)
    ready.fulfil("loans/l", copy="books/b/copies/other", now=NOW)
    assert ready.status == HoldStatus.FULFILLED and ready.copy_left_on_shelf


def test_a_copy_shelved_for_a_waiting_hold_makes_it_ready() -> None:
    waiting = hold()
    assert waiting.take_shelf_copy("books/b/copies/c", now=NOW, zone=UTC)
    assert waiting.status == HoldStatus.READY and waiting.copy == "books/b/copies/c"


def test_a_copy_shelved_for_an_ended_hold_is_its_to_release() -> None:
    cancelled = hold()
    cancelled.cancel("changed my mind", now=NOW)
    assert cancelled.take_shelf_copy("books/b/copies/c", now=NOW, zone=UTC)
    assert cancelled.copy_left_on_shelf


def test_a_second_copy_shelved_for_a_ready_hold_is_one_too_many() -> None:
    ready = hold()
    ready.make_ready("books/b/copies/c", now=NOW, zone=UTC)
    assert not ready.take_shelf_copy("books/b/copies/d", now=NOW, zone=UTC)
    assert ready.copy == "books/b/copies/c"


def test_cancelling_a_waiting_hold_releases_nothing() -> None:
    waiting = hold()
    waiting.cancel("changed my mind", now=NOW)
    assert waiting.status == HoldStatus.CANCELLED and not waiting.copy_left_on_shelf


def test_a_pickup_window_stored_before_the_limit_gives_a_century_on_the_shelf() -> None:
    endless = Hold.place(patron="users/p", book="books/b", pickup_branch="MAIN", pickup_days=2**31 - 1, now=NOW)
    endless.make_ready("books/b/copies/c", now=NOW, zone=UTC)  # a return that traps this hold must not fail
    assert endless.expire_at == datetime.combine(NOW.date() + timedelta(days=MAX_PERIOD_DAYS), time(23, 59, 59), UTC)


COPY = "books/b/copies/c"


def test_a_copy_set_aside_on_the_open_shelf_puts_the_hold_in_transit_with_no_pickup_window_nor_notice() -> None:
    waiting = hold()
    assert waiting.take_shelf_copy(COPY, in_transit=True, now=NOW, zone=UTC)
    assert (waiting.status, waiting.copy, waiting.queue_position) == (HoldStatus.IN_TRANSIT, COPY, 0)
    assert waiting.is_active and waiting.set_aside and waiting.expire_at is None and waiting.ready_at is None
    assert not any(isinstance(event, HoldReady) for event in waiting.events)
    assert not waiting.expire(now=NOW + timedelta(days=400))  # only READY holds expire
    assert not waiting.take_shelf_copy("books/b/copies/other", now=NOW, zone=UTC)  # one too many


def test_a_hold_in_transit_is_ready_once_its_own_copy_is_received_at_the_pickup_desk() -> None:
    sent = hold()
    sent.send(COPY, now=NOW)
    with pytest.raises(FailedPrecondition):
        sent.make_ready("books/b/copies/other", now=NOW, zone=UTC)
    later = NOW + timedelta(days=2)
    sent.make_ready(COPY, now=later, zone=UTC)
    assert (sent.status, sent.ready_at) == (HoldStatus.READY, later)
    assert sent.expire_at == datetime(2026, 11, 26, 23, 59, 59, tzinfo=UTC)  # the window starts when READY
    assert isinstance(sent.events[-1], HoldReady)
    with pytest.raises(FailedPrecondition):
        sent.send(COPY, now=NOW)


def test_a_hold_in_transit_cancelled_leaves_its_copy_to_release_and_one_fulfilled_with_it_does_not() -> None:
    cancelled, fulfilled, lent_another = hold(), hold(), hold()
    for each in (cancelled, fulfilled, lent_another):
        each.send(COPY, now=NOW)
    cancelled.cancel("changed my mind", now=NOW)
    fulfilled.fulfil("loans/l", copy=COPY, now=NOW)
    lent_another.fulfil("loans/l", copy="books/b/copies/other", now=NOW)
    assert cancelled.status == HoldStatus.CANCELLED and cancelled.copy_left_on_shelf
    assert fulfilled.status == HoldStatus.FULFILLED and not fulfilled.copy_left_on_shelf
    assert lent_another.copy_left_on_shelf
