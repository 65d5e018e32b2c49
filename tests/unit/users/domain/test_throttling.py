"""Sign-in throttling: growing delays, never a lock; attempts count before their outcome; failures leak away."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.support.runtime.errors import Throttled
from services.users.domain.throttling import SignInThrottle, ThrottlePolicy, UserLoginFailed

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
POLICY = ThrottlePolicy(
    free_failures=3,
    forget_one_every=timedelta(minutes=5),
    first_delay=timedelta(seconds=1),
    max_delay=timedelta(minutes=15),
)


def _fail(throttle: SignInThrottle, at: datetime) -> None:
    throttle.begin_attempt(now=at, policy=POLICY)
    throttle.record_failure("reader@example.org", "wrong_password", now=at)


def test_the_free_failures_cost_nothing_then_each_one_doubles_the_wait() -> None:
    assert [POLICY.delay(n).total_seconds() for n in range(1, 9)] == [0, 0, 0, 1, 2, 4, 8, 16]
    assert POLICY.delay(1000) == POLICY.max_delay


def test_a_key_over_its_free_failures_must_wait_then_may_try_again() -> None:
    throttle = SignInThrottle("account reader@example.org from 203.0.113.7")
    for _ in range(POLICY.free_failures + 1):
        throttle.ensure_open(NOW, POLICY)
        _fail(throttle, NOW)
    with pytest.raises(Throttled) as waiting:
        throttle.begin_attempt(now=NOW, policy=POLICY)
    assert waiting.value.metadata["retry_after_seconds"] == "1" and waiting.value.reason == "TOO_MANY_ATTEMPTS"
    _fail(throttle, NOW + timedelta(seconds=1))
    with pytest.raises(Throttled) as longer:
        throttle.ensure_open(NOW + timedelta(seconds=2), POLICY)
    assert longer.value.metadata["retry_after_seconds"] == "1"  # 2 s after the last failure, at 1 s
    assert all(isinstance(e, UserLoginFailed) for e in throttle.events) and len(throttle.events) == 5


def test_attempts_in_flight_count_before_their_outcome_is_known() -> None:
    throttle = SignInThrottle("client 203.0.113.7")
    for _ in range(POLICY.free_failures + 1):  # a burst of concurrent guesses, none answered yet
        throttle.begin_attempt(now=NOW, policy=POLICY)
    with pytest.raises(Throttled):
        throttle.begin_attempt(now=NOW, policy=POLICY)


def test_failures_are_forgotten_one_at_a_time() -> None:
    throttle = SignInThrottle("client 203.0.113.7")
    for _ in range(4):
        _fail(throttle, NOW)
    assert throttle.failures_now(NOW + timedelta(minutes=11), POLICY) == 2
    assert throttle.failures_now(NOW + timedelta(hours=1), POLICY) == 0


def test_a_success_is_given_back_and_the_owner_is_forgiven() -> None:
    throttle = SignInThrottle("client 203.0.113.7")
    throttle.begin_attempt(now=NOW, policy=POLICY)
    throttle.give_back()
    assert throttle.failures == 0
    for _ in range(3):
        _fail(throttle, NOW)
    throttle.forgive()
    throttle.ensure_open(NOW, POLICY)
    assert throttle.failures == 0


def test_attempts_counted_out_of_the_order_they_began_are_not_held_back_within_the_free_failures() -> None:
    """Honest sign-ins from one address at once (a library's terminals behind one NAT) take the client's lock in
    any order: one that began a moment before the last one counted must not be told to wait."""
    throttle = SignInThrottle("client 203.0.113.7")
    throttle.begin_attempt(now=NOW + timedelta(milliseconds=30), policy=POLICY)  # began later, counted first
    throttle.begin_attempt(now=NOW, policy=POLICY)
    throttle.begin_attempt(now=NOW + timedelta(milliseconds=10), policy=POLICY)
    assert throttle.failures == 3  # all three in flight
    assert throttle.last_attempt_at == NOW + timedelta(milliseconds=30)  # the latest, not the last counted


def test_a_key_over_its_free_failures_holds_back_an_attempt_that_began_before_the_last_one_counted() -> None:
    throttle = SignInThrottle("client 203.0.113.7")
    for _ in range(POLICY.free_failures + 1):
        _fail(throttle, NOW + timedelta(milliseconds=30))
    with pytest.raises(Throttled):
        throttle.begin_attempt(now=NOW, policy=POLICY)


def test_an_attempt_that_began_long_before_the_last_one_counted_adds_one_failure_only() -> None:
    throttle = SignInThrottle("client 203.0.113.7")
    throttle.begin_attempt(now=NOW + POLICY.forget_one_every * 3, policy=POLICY)  # waited long for the lock
    throttle.begin_attempt(now=NOW, policy=POLICY)
    assert throttle.failures == 2
