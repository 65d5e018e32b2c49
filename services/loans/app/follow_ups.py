"""The follow-up of a committed change on the hold shelf (a copy passed on, a queue served), run after the commit:
its failure is logged, not answered (the reconciler repairs what it left).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from typing import TypeVar

log = logging.getLogger("athenaeum.loans")
T = TypeVar("T")


async def after_commit(step: Awaitable[T], committed: str) -> T | None:
    """A follow-up of a committed change: its failure must not make the answer deny the commit (the
    reconciler finishes what it left); None when it failed."""
    try:
        return await step
    except Exception as error:
        log.warning(
            "%s is committed; its follow-up on the hold shelf failed (%s): the reconciler repairs", committed, error
        )
        return None
