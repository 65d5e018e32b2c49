"""Sign-in throttling: attempts count before their outcome is known, a lock opens after the lockout."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.support.runtime.errors import Throttled
from services.users.domain.throttling import LoginThrottle, ThrottlePolicy, UserLoginFailed

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
POLICY = ThrottlePolicy(max_failures=3, window=timedelta(minutes=15), lockout=timedelta(minutes=5))


def test_sign_ins_lock_after_repeated_failures_then_reopen() -> None:
    throttle = LoginThrottle("reader@example.org")
    for _ in range(POLICY.max_failures):
        throttle.begin_attempt(now=NOW, policy=POLICY)
        throttle.record_failure("wrong_password", now=NOW)
    with pytest.raises(Throttled) as locked:
        throttle.begin_attempt(now=NOW + timedelta(minutes=1), policy=POLICY)
    assert locked.value.metadata["retry_after_seconds"] == "241"
    throttle.begin_attempt(now=NOW + POLICY.lockout, policy=POLICY)
    assert len(throttle.events) == POLICY.max_failures
    assert all(isinstance(e, UserLoginFailed) for e in throttle.events)


def test_attempts_in_flight_count_before_their_outcome_is_known() -> None:
    throttle = LoginThrottle("reader@example.org")
    for _ in range(POLICY.max_failures):  # a burst of concurrent guesses, none answered yet
        throttle.begin_attempt(now=NOW, policy=POLICY)
    with pytest.raises(Throttled):
        throttle.begin_attempt(now=NOW, policy=POLICY)


def test_failures_outside_the_window_do_not_add_up() -> None:
    throttle = LoginThrottle("reader@example.org")
    for minute in (0, 20, 40, 60, 61):
        throttle.begin_attempt(now=NOW + timedelta(minutes=minute), policy=POLICY)
    assert throttle.locked_until is None and throttle.failures == 2  # only 60 and 61 share a window


def test_a_success_clears_the_count() -> None:
    throttle = LoginThrottle("reader@example.org")
    throttle.begin_attempt(now=NOW, policy=POLICY)
    throttle.begin_attempt(now=NOW, policy=POLICY)
    throttle.record_success()
    throttle.begin_attempt(now=NOW, policy=POLICY)
    throttle.begin_attempt(now=NOW, policy=POLICY)
    throttle.ensure_open(NOW)
