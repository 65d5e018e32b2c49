"""retry_forever: the one backoff loop the runtime's links to NATS and Postgres share."""

from __future__ import annotations

import asyncio

import pytest

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
