"""Retrying until it works, with capped and jittered exponential backoff (tenacity): the one way the loops that
keep a service linked to NATS or Postgres wait for them, so a service outlives its dependencies' restarts."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

import tenacity

log = logging.getLogger("athenaeum.retrying")
T = TypeVar("T")


async def retry_forever(
    attempt: Callable[[], Awaitable[T]],
    *,
    what: str,
    first: float = 0.2,
    most: float = 5.0,
    on_failure: Callable[[], Awaitable[None]] | None = None,
    wake: asyncio.Event | None = None,
) -> T:
    """Await `attempt()` until it returns; after each failure (any Exception, never a cancellation) log it, run
    `on_failure`, then wait `first` seconds, doubling each time up to `most`, plus up to `first` of jitter; a set
    `wake` event ends a wait early (and is cleared).

    The first attempt runs before any of tenacity's machinery is built: the outbox relay calls this on every
    pass, nearly always to succeed at once, and building the retrier cost ~1 % of loans' busy time and ~1.6 %
    of the catalog's. A first failure is handed to tenacity as its attempt 1, so what follows is as before."""
    try:
        return await attempt()
    except Exception as error:
        failed: list[Exception] = [error]

    async def sleep(seconds: float) -> None:
        if wake is None:
            await asyncio.sleep(seconds)
            return
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await wake.wait()
        wake.clear()

    async def before_sleep(state: tenacity.RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome else None
        wait = state.upcoming_sleep
        log.warning("%s unavailable (attempt %d, next in %.1fs): %s", what, state.attempt_number, wait, error)
        if on_failure is not None:
            await on_failure()

    async def call() -> T:  # a coroutine function, whatever `attempt` is: tenacity would not await a lambda's result
        if failed:
            raise failed.pop()  # the attempt already made: logged, reported and waited on as tenacity's first
        return await attempt()

    retrying = tenacity.AsyncRetrying(
        wait=tenacity.wait_exponential_jitter(multiplier=first, max=most, jitter=first),
        retry=tenacity.retry_if_exception_type(Exception),
        before_sleep=before_sleep,
        sleep=sleep,
        reraise=True,
    )
    return await retrying(call)
