"""Rows a service no longer needs, deleted in the background: a statement that deletes a few thousand of them
at a time, run until it finds none, then again an hour later.

Each round is short transactions in autocommit (a long DELETE would hold its locks and bloat the WAL at
once); a database that is away is met again at the next round. Several processes of a service may run the
same upkeep: their DELETEs wait on each other's rows and then find them gone.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.sql import Executable

log = logging.getLogger("athenaeum.upkeep")

BATCH_ROWS = 5_000
"""Rows one DELETE takes at most (write each statement's subquery with this LIMIT)."""
EVERY_SECONDS = 3600.0


async def delete_until_none(
    engine: AsyncEngine, statements: Sequence[Executable], parameters: Mapping[str, Any] | None = None
) -> int:
    """Run each statement until it deletes nothing; how many rows went."""
    deleted = 0
    async with engine.execution_options(isolation_level="AUTOCOMMIT").connect() as connection:
        for statement in statements:
            while count := (await connection.execute(statement, dict(parameters or {}))).rowcount:
                deleted += count
    return deleted


async def delete_forever(
    engine: AsyncEngine,
    statements: Sequence[Executable],
    parameters: Mapping[str, Any] | None = None,
    *,
    what: str,
    every: float = EVERY_SECONDS,
) -> None:
    """Background task: `delete_until_none` now and every `every` seconds."""
    while True:
        try:
            if deleted := await delete_until_none(engine, statements, parameters):
                log.info("deleted %d %s", deleted, what)
        except Exception as error:  # the database is away: the next round catches up
            log.warning("could not delete %s: %s", what, error)
        await asyncio.sleep(every)
