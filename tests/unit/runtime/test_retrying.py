"""retry_forever: the one backoff loop the runtime's links to NATS and Postgres share."""

from __future__ import annotations

import asyncio
import logging

import pytest
import tenacity

from services.support.runtime.retrying import retry_forever


async def test_it_tries_again_after_failures_until_the_attempt_returns() -> None:
    outcomes: list[Exception | str] = [ConnectionError("down"), OSError("still down"), "connected"]
    failures: list[int] = []

    async def attempt() -> str:
        outcome = outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    async def on_failure() -> None:
        failures.append(len(outcomes))

    assert await retry_forever(attempt, what="test link", first=0, on_failure=on_failure) == "connected"
    assert failures == [2, 1]


async def test_a_cancellation_is_never_retried() -> None:
    calls = 0

    async def attempt() -> None:
        nonlocal calls
        calls += 1
        raise asyncio.CancelledError

    with pytest.raises(asyncio.CancelledError):
        await retry_forever(attempt, what="test link", first=0)
    assert calls == 1


async def test_an_attempt_given_as_a_lambda_is_awaited_too() -> None:
    async def connect(address: str) -> str:
        return f"connected to {address}"

    assert await retry_forever(lambda: connect("nats"), what="test link", first=0) == "connected to nats"


async def test_a_wake_event_ends_the_wait_before_the_next_attempt() -> None:
    wake = asyncio.Event()
    attempts: list[int] = []

    async def attempt() -> str:
        attempts.append(1)
        if len(attempts) == 1:
            raise ConnectionError("down")
        return "up"

    async def on_failure() -> None:
        wake.set()  # e.g. a commit while the relay waits: without the event the wait would be an hour

    assert (
        await retry_forever(attempt, what="test link", first=3600, most=3600, on_failure=on_failure, wake=wake) == "up"
    )
    assert not wake.is_set()


async def test_an_attempt_that_succeeds_at_once_builds_no_retrier(monkeypatch: pytest.MonkeyPatch) -> None:
    # The outbox relay calls retry_forever on every pass: building tenacity's retrier each time cost ~1 % of a
    # service's busy time, for passes that nearly always succeed.
    def no_retrier(**_: object) -> None:
        raise AssertionError("a retrier was built for an attempt that needed none")

    monkeypatch.setattr(tenacity, "AsyncRetrying", no_retrier)

    async def attempt() -> str:
        return "published"

    assert await retry_forever(attempt, what="outbox relay", first=0) == "published"


async def test_a_first_failure_is_logged_reported_and_waited_on_as_attempt_one(
    caplog: pytest.LogCaptureFixture,
) -> None:
    calls: list[str] = []

    async def attempt() -> str:
        calls.append("attempt")
        if len(calls) == 1:
            raise ConnectionError("nats down")
        return "up"

    async def on_failure() -> None:
        calls.append("reported")

    with caplog.at_level(logging.WARNING, logger="athenaeum.retrying"):
        assert await retry_forever(attempt, what="outbox relay", first=0, on_failure=on_failure) == "up"
    assert calls == ["attempt", "reported", "attempt"]  # the failed attempt is not made twice
    (line,) = [record.getMessage() for record in caplog.records]
    assert line.startswith("outbox relay unavailable (attempt 1, next in") and line.endswith("nats down")
