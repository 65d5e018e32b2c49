"""The authors readers follow, in Postgres."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, insert

from services.notifications.app.ports import FollowCursor
from services.notifications.data.tables import followed_authors as table
from services.notifications.domain.follows import FOLLOWED_AUTHOR, FollowedAuthor, FollowedAuthorNotFound
from services.support.runtime.repository import TrackingRepository

_ADD = (
    insert(table)
    .values({c.name: sa.bindparam(c.name, type_=c.type) for c in table.c})
    .on_conflict_do_nothing(constraint="followed_authors_user_key")
    .returning(table.c.id)
)
_COUNT = sa.select(sa.func.count()).select_from(table).where(table.c.user_id == sa.bindparam("user_id"))
_BY_KEY = sa.select(table).where(table.c.user_id == sa.bindparam("user_id"), table.c.key == sa.bindparam("key"))
_GET = sa.select(table).where(table.c.user_id == sa.bindparam("user_id"), table.c.id == sa.bindparam("follow_id"))
_REMOVE = table.delete().where(table.c.user_id == sa.bindparam("user_id"), table.c.id == sa.bindparam("follow_id"))
_FOLLOWERS = sa.select(table).where(table.c.words.overlap(sa.bindparam("words", type_=ARRAY(sa.Text))))
_DROP_ALL = table.delete().where(table.c.user_id == sa.bindparam("user_id"))
_NEWEST_FIRST = (table.c.created_at.desc(), table.c.id.desc())


class SqlFollowRepository(TrackingRepository):
    async def add(self, follow: FollowedAuthor) -> FollowedAuthor | None:
        row = (await self.session.execute(_ADD, _to_row(follow))).first()
        return follow if row is not None else None

    async def count_of(self, user_id: uuid.UUID, *, lock: bool = False) -> int:
        if lock:  # two follows at once must not both pass the limit: they count one after the other
            await self._advisory_lock(f"followed_authors/{user_id}")
        return int((await self.session.execute(_COUNT, {"user_id": user_id})).scalar_one())

    async def by_key(self, user_id: uuid.UUID, key: str) -> FollowedAuthor | None:
        row = (await self.session.execute(_BY_KEY, {"user_id": user_id, "key": key})).first()
        return _to_follow(row._mapping) if row is not None else None

    async def get(self, user_id: uuid.UUID, follow_id: uuid.UUID) -> FollowedAuthor:
        row = (await self.session.execute(_GET, {"user_id": user_id, "follow_id": follow_id})).first()
        if row is None:
            raise FollowedAuthorNotFound(FOLLOWED_AUTHOR.format(user_id, follow_id))
        return _to_follow(row._mapping)

    async def remove(self, user_id: uuid.UUID, follow_id: uuid.UUID) -> None:
        result = await self.session.execute(_REMOVE, {"user_id": user_id, "follow_id": follow_id})
        if not result.rowcount:  # type: ignore[attr-defined]
            raise FollowedAuthorNotFound(FOLLOWED_AUTHOR.format(user_id, follow_id))

    async def list_of(self, user_id: uuid.UUID, *, after: FollowCursor | None, limit: int) -> list[FollowedAuthor]:
        query = sa.select(table).where(table.c.user_id == user_id)
        if after is not None:
            query = query.where(sa.tuple_(table.c.created_at, table.c.id) < (after.created_at, after.follow_id))
        rows = await self.session.execute(query.order_by(*_NEWEST_FIRST).limit(limit))
        return [_to_follow(row._mapping) for row in rows]

    async def followers(self, words: Collection[str]) -> list[FollowedAuthor]:
        if not words:
            return []
        rows = await self.session.execute(_FOLLOWERS, {"words": sorted(set(words))})
        return [_to_follow(row._mapping) for row in rows]

    async def drop_all_of(self, user_id: uuid.UUID) -> int:
        return int((await self.session.execute(_DROP_ALL, {"user_id": user_id})).rowcount)  # type: ignore[attr-defined]


def _to_row(follow: FollowedAuthor) -> dict[str, Any]:
    return {
        "id": follow.id,
        "user_id": follow.user_id,
        "author": follow.author,
        "key": follow.key,
        "created_at": follow.created_at,
        "words": follow.words,
    }


def _to_follow(row: Mapping[Any, Any]) -> FollowedAuthor:
    return FollowedAuthor(row["id"], row["user_id"], row["author"], row["key"], row["created_at"])
