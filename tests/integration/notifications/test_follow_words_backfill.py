# ruff: noqa: RUF001  (Cyrillic initials on purpose)
"""Migration 0013 on real Postgres: the follows made before it get their whole words (FO1), so a book by a
longer spelling of the author finds them through the words index."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from services.notifications.data.follows import SqlFollowRepository
from services.notifications.data.tables import followed_authors
from services.support.runtime.migrations import alembic_config, upgrade_to_head

pytestmark = pytest.mark.integration


async def test_follows_made_before_the_migration_get_their_words_and_are_found_by_them(postgres) -> None:
    url = await asyncio.to_thread(postgres.fresh_database, "notifications")
    await asyncio.to_thread(command.upgrade, alembic_config("notifications", url), "0012")
    old = sa.table("followed_authors", *(sa.column(c) for c in ("id", "user_id", "author", "key", "created_at")))
    follow_id = uuid.uuid4()
    engine = create_async_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.execute(old.insert().values(
                id=follow_id, user_id=uuid.uuid4(), author="М. Булгаков", key="булгаков м",
                created_at=datetime(2026, 1, 1, tzinfo=UTC),
            ))  # fmt: skip
        await asyncio.to_thread(upgrade_to_head, "notifications", url)
        async with engine.connect() as connection:
            words = await connection.scalar(sa.select(followed_authors.c.words))
        async with AsyncSession(engine) as session:
            found = await SqlFollowRepository(session).followers({"булгаков", "михаил", "афанасьевич"})
    finally:
        await engine.dispose()
    assert words == ["булгаков"]
    assert [f.id for f in found] == [follow_id]
