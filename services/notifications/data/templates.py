"""Templates in Postgres, read through a process-wide cache that reloads only when a version changed (one
small query per batch of events instead of every template each time)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.notifications.data.tables import templates as table
from services.notifications.domain.kinds import Channel, Kind
from services.notifications.domain.templates import COLLECTION, Template, TemplateNotFound
from services.support.runtime.conflicts import CONCURRENT_UPDATE
from services.support.runtime.errors import Conflict
from services.support.runtime.repository import TrackingRepository

_STAMP = sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(table.c.version), 0), sa.func.max(table.c.updated_at))
_ALL = sa.select(table)
_SAVE = (
    table.update()
    .where(table.c.id == sa.bindparam("row_id"), table.c.version == sa.bindparam("seen_version"))
    .values(
        subject=sa.bindparam("new_subject"),
        body=sa.bindparam("new_body"),
        html=sa.bindparam("new_html"),
        version=sa.bindparam("new_version"),
        updated_at=sa.bindparam("new_updated_at"),
        updated_by=sa.bindparam("new_updated_by"),
    )
)


class TemplateCache:
    """The stored templates of this process, and the stamp (count, sum of versions, last change) they had."""

    def __init__(self, builtin: Mapping[str, Template]) -> None:
        self.builtin = dict(builtin)
        self.stamp: tuple[Any, ...] | None = None
        self.templates: dict[str, Template] = {}


class SqlTemplateRepository(TrackingRepository):
    def __init__(self, session: AsyncSession, cache: TemplateCache) -> None:
        super().__init__(session)
        self._cache = cache

    async def current(self) -> Mapping[str, Template]:
        stamp = tuple((await self.session.execute(_STAMP)).one())
        if stamp != self._cache.stamp:
            rows = (await self.session.execute(_ALL)).all()
            self._cache.templates = {row.id: _to_template(row) for row in rows}
            self._cache.stamp = stamp
        return self._cache.templates

    async def get(self, template_id: str) -> Template:
        row = (await self.session.execute(sa.select(table).where(table.c.id == template_id))).first()
        if row is None:
            raise TemplateNotFound(f"{COLLECTION}/{template_id}")
        return _to_template(row)

    async def save(self, template: Template) -> None:
        result = await self.session.execute(
            _SAVE,
            {
                "row_id": template.id,
                "seen_version": template.version - 1,
                "new_version": template.version,
                "new_subject": template.subject,
                "new_body": template.body,
                "new_html": template.html,
                "new_updated_at": template.updated_at,
                "new_updated_by": template.updated_by,
            },
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            raise Conflict(f"{template.name} was changed concurrently; read it again", reason=CONCURRENT_UPDATE)
        self.seen.append(template)  # its TemplateUpdated goes to the outbox at commit

    async def add_missing(self, templates: Iterable[Template]) -> int:
        rows = [{"id": t.id, **_to_row(t)} for t in templates]
        if not rows:
            return 0
        result = await self.session.execute(insert(table).on_conflict_do_nothing().returning(table.c.id), rows)
        return len(result.scalars().all())

    def builtin(self, template_id: str) -> Template | None:
        return self._cache.builtin.get(template_id)


def _to_row(t: Template) -> dict[str, Any]:
    return {
        "kind": t.kind.value,
        "channel": t.channel.value,
        "locale": t.locale,
        "subject": t.subject,
        "body": t.body,
        "html": t.html,
        "version": t.version,
        "updated_at": t.updated_at,
        "updated_by": t.updated_by,
    }


def _to_template(row: sa.Row[Any]) -> Template:
    m = row._mapping
    updated_at: datetime = m["updated_at"]
    return Template(
        kind=Kind(m["kind"]),
        channel=Channel(m["channel"]),
        locale=m["locale"],
        subject=m["subject"],
        body=m["body"],
        html=m["html"],
        version=m["version"],
        updated_at=updated_at,
        updated_by=m["updated_by"],
    )
