"""The authors readers follow, in memory: one follow per reader and key, as the database's unique constraint."""

from __future__ import annotations

import uuid
from collections.abc import Collection

from services.notifications.app.ports import FollowCursor
from services.notifications.domain.follows import FOLLOWED_AUTHOR, FollowedAuthor, FollowedAuthorNotFound


class FakeFollows:
    def __init__(self, rows: dict[uuid.UUID, FollowedAuthor]) -> None:
        self._rows = rows

    def _of(self, user_id: uuid.UUID) -> list[FollowedAuthor]:
        return sorted((f for f in self._rows.values() if f.user_id == user_id),
                      key=lambda f: (f.created_at, f.id), reverse=True)  # fmt: skip

    async def add(self, follow: FollowedAuthor) -> FollowedAuthor | None:
        if any(f.key == follow.key for f in self._of(follow.user_id)):
            return None
        self._rows[follow.id] = follow
        return follow

    async def count_of(self, user_id: uuid.UUID, *, lock: bool = False) -> int:
        return len(self._of(user_id))

    async def by_key(self, user_id: uuid.UUID, key: str) -> FollowedAuthor | None:
        return next((f for f in self._of(user_id) if f.key == key), None)

    async def get(self, user_id: uuid.UUID, follow_id: uuid.UUID) -> FollowedAuthor:
        found = self._rows.get(follow_id)
        if found is None or found.user_id != user_id:
            raise FollowedAuthorNotFound(FOLLOWED_AUTHOR.format(user_id, follow_id))
        return found

    async def remove(self, user_id: uuid.UUID, follow_id: uuid.UUID) -> None:
        await self.get(user_id, follow_id)
        del self._rows[follow_id]

    async def list_of(self, user_id: uuid.UUID, *, after: FollowCursor | None, limit: int) -> list[FollowedAuthor]:
        rows = self._of(user_id)
        if after is not None:
            rows = [f for f in rows if (f.created_at, f.id) < (after.created_at, after.follow_id)]
        return rows[:limit]

    async def followers(self, words: Collection[str]) -> list[FollowedAuthor]:
        return [f for f in self._rows.values() if not set(f.words).isdisjoint(words)]

    async def drop_all_of(self, user_id: uuid.UUID) -> int:
        mine = [f.id for f in self._rows.values() if f.user_id == user_id]
        for follow_id in mine:
            del self._rows[follow_id]
        return len(mine)
