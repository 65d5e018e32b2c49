"""Lost races are repeated inside the service: a first try that wins costs nothing more, a lost one is tried
again while that is safe, and anything else is raised at once."""

from __future__ import annotations

import pytest

from services.support.runtime.conflicts import ATTEMPTS, CONCURRENT_UPDATE, retry_conflicts
from services.support.runtime.errors import Conflict, NotFound


class Work:
    """Loses the race `losses` times (or raises `error` each time), then answers."""

    def __init__(self, losses: int = 0, error: Exception | None = None) -> None:
        self.losses = losses
        self.error = error
        self.tries = 0

    async def __call__(self) -> str:
        self.tries += 1
        if self.error is not None:
            raise self.error
        if self.tries <= self.losses:
            raise Conflict("lost", reason=CONCURRENT_UPDATE)
        return "done"


async def test_a_first_try_that_wins_runs_once() -> None:
    work = Work()
    assert await retry_conflicts(work) == "done"
    assert work.tries == 1


async def test_a_lost_race_is_repeated_until_it_wins() -> None:
    work = Work(losses=ATTEMPTS - 1)
    assert await retry_conflicts(work) == "done"
    assert work.tries == ATTEMPTS


async def test_the_last_lost_race_is_raised_as_it_is() -> None:
    work = Work(losses=ATTEMPTS)
    with pytest.raises(Conflict):
        await retry_conflicts(work)
    assert work.tries == ATTEMPTS


async def test_a_race_is_not_repeated_once_repeating_is_unsafe() -> None:
    work = Work(losses=1)
    with pytest.raises(Conflict):
        await retry_conflicts(work, may_retry=lambda: False)
    assert work.tries == 1


async def test_other_errors_and_stale_etags_are_raised_at_once() -> None:
    for error in (NotFound("gone"), Conflict("stale", reason="STALE_ETAG")):
        work = Work(error=error)
        with pytest.raises(type(error)):
            await retry_conflicts(work)
        assert work.tries == 1
