"""The projection of accounts (domain/patrons.py) in the loans database: read by every issue, written by the
users events' consumer, the newer version winning whatever order the events come in."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import asdict, fields
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as upsert

from services.loans.data.tables import patron_feed, patrons
from services.loans.domain.patrons import PatronRecord
from services.support.runtime.driver import DriverStatement
from services.support.runtime.repository import TrackingRepository

_GET = DriverStatement(sa.select(patrons).where(patrons.c.patron == sa.bindparam("patron")), read=True)
_OF = DriverStatement(
    sa.select(patrons).where(patrons.c.patron == sa.any_(sa.bindparam("patrons", type_=ARRAY(sa.Text)))), read=True
)
_new = upsert(patrons).values({c.name: sa.bindparam(c.name, type_=c.type) for c in patrons.columns})
_KEEP_NEWER = DriverStatement(
    _new.on_conflict_do_update(
        index_elements=[patrons.c.patron],
        set_={c.name: _new.excluded[c.name] for c in patrons.columns if c.name != "patron"},
        where=patrons.c.version < _new.excluded.version,
    )
)
_FOLLOWED = DriverStatement(
    sa.select(patron_feed.c.created).where(patron_feed.c.stream == sa.bindparam("stream")).with_for_update()
)
_feed = upsert(patron_feed).values(stream=sa.bindparam("stream"), created=sa.bindparam("created"))
_FOLLOW = DriverStatement(
    _feed.on_conflict_do_update(index_elements=[patron_feed.c.stream], set_={"created": _feed.excluded.created})
)
_FORGET_ALL = DriverStatement(sa.delete(patrons))


def _to_record(m: Mapping[Any, Any]) -> PatronRecord:
    return PatronRecord(**{field.name: m[field.name] for field in fields(PatronRecord)})  # the table's columns


class SqlPatronRepository(TrackingRepository):
    async def get(self, patron: str) -> PatronRecord | None:
        row = await self._first(_GET, {"patron": patron})
        return _to_record(row) if row is not None else None

    async def of(self, patrons: Collection[str]) -> list[PatronRecord]:
        return [_to_record(row) for row in await self._fetch(_OF, {"patrons": list(patrons)})]

    async def keep_newer(self, record: PatronRecord) -> bool:
        """Store `record` unless a newer version of the account is stored; whether it was stored."""
        return await self._execute(_KEEP_NEWER, asdict(record)) == 1  # its fields are the table's columns

    async def followed_stream(self, stream: str) -> str | None:
        """The creation stamp of the stream the projection was built from (None: not built yet); locked."""
        row = await self._first(_FOLLOWED, {"stream": stream})
        return str(row["created"]) if row is not None else None

    async def follow(self, stream: str, created: str) -> None:
        await self._execute(_FOLLOW, {"stream": stream, "created": created})

    async def forget_all(self) -> int:
        return await self._execute(_FORGET_ALL, {})
