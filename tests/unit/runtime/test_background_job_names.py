"""A service's background jobs may be plain coroutine functions or `functools.partial`s of one (a partial has
no `__qualname__`: the users service failed to start on one)."""

from __future__ import annotations

from functools import partial

from services.support.runtime.server import _task_name


async def forget_old_rows(every: float = 3600.0) -> None:
    """A job."""


def test_a_job_is_named_by_its_function_partial_or_not() -> None:
    assert _task_name(forget_old_rows) == "forget_old_rows"
    assert _task_name(partial(forget_old_rows, every=1.0)) == "forget_old_rows"
