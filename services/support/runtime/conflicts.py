"""Lost races inside the service are retried inside the service: a transaction that collided with another one
(an optimistic update that lost, a serialization failure or a deadlock in Postgres) is repeated a few times
before anyone outside hears of it.

Pure: no I/O library (it recognises a driver's errors by their SQLSTATE, not by their type), so use cases may
wrap a transaction of theirs in `retry_conflicts`, and the runtime wraps whole calls in it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TypeVar

import tenacity

from services.support.runtime.errors import Conflict

T = TypeVar("T")

CONCURRENT_UPDATE = "CONCURRENT_UPDATE"
"""The one ErrorInfo reason of a lost optimistic update (a stale etag is STALE_ETAG, checked before)."""
REQUEST_IN_PROGRESS = "REQUEST_IN_PROGRESS"
"""The reason of a request whose request_id another attempt holds or has committed: retry it for its answer."""

CONFLICT_SQLSTATES = ("40001", "40P01")
"""A lost race inside the database (serialization failure, deadlock): the work may succeed if repeated."""

ATTEMPTS = 4
"""One try and three repeats, 10 ms to ~100 ms apart (jittered): enough for a race, short enough to stay unseen."""


def causes(error: BaseException) -> list[BaseException]:
    """The error and what it wraps (SQLAlchemy's .orig, the driver's __cause__), outermost first."""
    chain: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and current not in chain and len(chain) < 8:
        chain.append(current)
        current = getattr(current, "orig", None) or current.__cause__ or current.__context__
    return chain


def sqlstate(error: BaseException) -> str:
    return str(getattr(error, "sqlstate", "") or getattr(error, "pgcode", "") or "")


def is_database_conflict(error: BaseException) -> bool:
    return any(sqlstate(cause).startswith(CONFLICT_SQLSTATES) for cause in causes(error))


def is_retryable_conflict(error: BaseException) -> bool:
    """A race the same work may win when repeated: not a stale etag (the client must re-read) nor a twin
    request in flight (the twin decides)."""
    if isinstance(error, Conflict):
        return error.reason == CONCURRENT_UPDATE
    return is_database_conflict(error)


async def retry_conflicts(
    work: Callable[[], Awaitable[T]],
    *,
    attempts: int = ATTEMPTS,
    may_retry: Callable[[], bool] = lambda: True,
) -> T:
    """`await work()`, repeated after a retryable conflict (while `may_retry()` says repeating is still safe);
    the last conflict is raised as it is."""

    def retryable(error: BaseException) -> bool:
        return is_retryable_conflict(error) and may_retry()

    try:  # the first try on its own: the runtime wraps every call in this, and most never conflict
        return await work()
    except Exception as error:
        if attempts <= 1 or not retryable(error):
            raise
        lost: list[BaseException] = [error]
    retrying = tenacity.AsyncRetrying(
        stop=tenacity.stop_after_attempt(attempts),
        wait=tenacity.wait_exponential_jitter(multiplier=0.01, max=0.1, jitter=0.02),
        retry=tenacity.retry_if_exception(retryable),
        reraise=True,
    )

    async def attempt() -> T:  # a coroutine function, whatever `work` is: tenacity awaits only those
        if lost:  # the first try, which already lost: tenacity counts it and waits before the next
            raise lost.pop()
        return await work()

    return await retrying(attempt)


_commits: ContextVar[list[int] | None] = ContextVar("athenaeum_commits", default=None)


@contextmanager
def counting_commits() -> Iterator[list[int]]:
    """Counts the units of work committed inside the block (by this task and the tasks it starts): the
    runtime repeats a call that lost a race only while it has committed nothing."""
    counter = [0]
    token = _commits.set(counter)
    try:
        yield counter
    finally:
        _commits.reset(token)


def count_commit() -> None:
    """Called by a unit of work once its change is committed."""
    if (counter := _commits.get()) is not None:
        counter[0] += 1
