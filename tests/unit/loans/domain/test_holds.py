"""Holds: ready on the shelf for the pickup window, expiry, fulfilment, cancelling."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest

from services.loans.domain.holds import Hold, HoldExpired, HoldReady, HoldStatus
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
