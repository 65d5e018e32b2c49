"""Rows no one needs any more are deleted in the background, and only those: published outbox rows past their
keep (unpublished ones never), on real Postgres."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from services.support.runtime.outbox import OUTBOX, PUBLISHED_LONG_AGO
from services.support.runtime.upkeep import BATCH_ROWS, delete_until_none

pytestmark = pytest.mark.integration
WEEK = timedelta(hours=168)


async def _add_rows(engine, label: str, count: int, *, published_days_ago: float | None, days_ago: float) -> None:
    now = datetime.now(UTC)  # the server's clock: same host
    published = None if published_days_ago is None else now - timedelta(days=published_days_ago)
    async with engine.begin() as connection:
        await connection.execute(
            OUTBOX.insert(),
            [
                {
                    "event_id": uuid.uuid4(),
                    "subject": f"test.{label}",
                    "event_type": label,
                    "payload": b"",
                    "occurred_at": now - timedelta(days=days_ago),
                    "published_at": published,
                }
                for _ in range(count)
            ],
        )


async def _left(engine) -> dict[str, int]:
    async with engine.connect() as connection:
        rows = await connection.execute(sa.select(OUTBOX.c.event_type, sa.func.count()).group_by(OUTBOX.c.event_type))
        return {kind: count for kind, count in rows}


async def test_published_rows_past_their_keep_go_and_every_other_row_stays(engine) -> None:
    await _add_rows(engine, "old", BATCH_ROWS + 7, published_days_ago=8, days_ago=8)  # more than one DELETE takes
    await _add_rows(engine, "recent", 3, published_days_ago=6, days_ago=8)
    await _add_rows(engine, "unpublished", 2, published_days_ago=None, days_ago=30)

    deleted = await delete_until_none(engine, [PUBLISHED_LONG_AGO], {"keep": WEEK})

    assert deleted == BATCH_ROWS + 7
    assert await _left(engine) == {"recent": 3, "unpublished": 2}
    assert await delete_until_none(engine, [PUBLISHED_LONG_AGO], {"keep": WEEK}) == 0
