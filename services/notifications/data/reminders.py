"""Reminders and told schedule steps in Postgres. A reminder's occurrence is stored as JSON (its facts keep
their types: moments and amounts come back as they went in)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert

from services.notifications.data.tables import reminders, step_keys
from services.notifications.domain.kinds import Kind
from services.notifications.domain.occurrences import Occurrence, Reminder
from services.notifications.domain.wording import Fact, Money, Titles
from services.support.runtime.repository import TrackingRepository
from services.support.runtime.upkeep import BATCH_ROWS

_CLAIM_KEYS = insert(step_keys).on_conflict_do_nothing().returning(step_keys.c.key)
_SCHEDULE = insert(reminders)
_SCHEDULE = _SCHEDULE.on_conflict_do_update(
    index_elements=[reminders.c.key, reminders.c.kind],
    set_={"due_at": _SCHEDULE.excluded.due_at, "occurrence": _SCHEDULE.excluded.occurrence},
)
_GATHER = insert(reminders).on_conflict_do_update(
    index_elements=[reminders.c.key, reminders.c.kind],
    set_={
        "occurrence": sa.literal_column(
            "jsonb_set(reminders.occurrence, '{gathered}',"
            " coalesce(reminders.occurrence -> 'gathered', '[]'::jsonb) || (excluded.occurrence -> 'gathered'))"
        )
    },
)
"""A digest adds what it gathered to the one stored under its key, in the statement: two consumers gathering
for one key at once each add theirs (the row lock orders them), where reading it first would lose one."""
_CANCEL = reminders.delete().where(reminders.c.key.in_(sa.bindparam("keys", expanding=True)))
_DUE = (
    sa.select(reminders.c.key, reminders.c.kind)
    .where(reminders.c.due_at <= sa.bindparam("now"))
    .order_by(reminders.c.due_at)
    .limit(sa.bindparam("limit"))
    .with_for_update(skip_locked=True)
)


STEPS_TOLD_LONG_AGO = sa.delete(step_keys).where(
    step_keys.c.key.in_(
        sa.select(step_keys.c.key)
        .where(step_keys.c.created_at < sa.func.now() - sa.bindparam("keep", type_=sa.Interval))
        .limit(BATCH_ROWS)
    )
)
"""Reminder steps told more than `keep` ago (`notifications_kept_days`), with the notifications they made: a
step's event can come again only while its stream keeps it (30 days), and loans announces each step once, so
a key that old guards nothing; kept, one row per step of every loan ever made piled up for ever."""


class SqlStepKeys:
    def __init__(self, session: Any) -> None:
        self.session = session

    async def claim(self, keys: Iterable[str]) -> set[str]:
        rows = [{"key": key} for key in dict.fromkeys(keys)]
        if not rows:
            return set()
        return set((await self.session.execute(_CLAIM_KEYS, rows)).scalars().all())


class SqlReminderRepository(TrackingRepository):
    async def schedule(self, scheduled: Iterable[Reminder]) -> None:
        rows = [
            {"key": r.key, "kind": r.occurrence.kind.value, "due_at": r.due_at, "occurrence": encode(r.occurrence)}
            for r in scheduled
        ]
        if rows:
            await self.session.execute(_SCHEDULE, rows)

    async def cancel(self, keys: Iterable[str]) -> None:
        await self.session.execute(_CANCEL, {"keys": list(keys)})

    async def gather(self, digests: Iterable[Reminder]) -> None:
        rows = [
            {"key": r.key, "kind": r.occurrence.kind.value, "due_at": r.due_at, "occurrence": encode(r.occurrence)}
            for r in digests
        ]
        if rows:
            await self.session.execute(_GATHER, rows)

    async def cancel_under(self, prefix: str) -> None:
        await self.session.execute(reminders.delete().where(reminders.c.key.startswith(prefix, autoescape=True)))

    async def take_due(self, now: datetime, *, limit: int) -> list[Reminder]:
        due = (await self.session.execute(_DUE, {"now": now, "limit": limit})).all()
        if not due:
            return []
        taken = reminders.delete().where(sa.tuple_(reminders.c.key, reminders.c.kind).in_([tuple(row) for row in due]))
        rows = (await self.session.execute(taken.returning(reminders))).all()
        return [Reminder(row.key, row.due_at, decode(row.occurrence)) for row in rows]


def encode(occurrence: Occurrence) -> dict[str, Any]:
    return {
        "event_id": str(occurrence.event_id),
        "occurred_at": occurrence.occurred_at.isoformat(),
        "kind": occurrence.kind.value,
        "recipient_id": str(occurrence.recipient_id),
        "facts": {name: _encode_fact(value) for name, value in occurrence.facts.items()},
        "step_key": occurrence.step_key,
        "trace": dict(occurrence.trace),
        "book": occurrence.book,
        "about": occurrence.about,
        "stale_at": occurrence.stale_at.isoformat() if occurrence.stale_at else None,
        "gathered": [{name: _encode_fact(value) for name, value in facts.items()} for facts in occurrence.gathered],
    }


def decode(data: Mapping[str, Any]) -> Occurrence:
    return Occurrence(
        event_id=uuid.UUID(data["event_id"]),
        occurred_at=datetime.fromisoformat(data["occurred_at"]),
        kind=Kind(data["kind"]),
        recipient_id=uuid.UUID(data["recipient_id"]),
        facts={name: _decode_fact(value) for name, value in data["facts"].items()},
        step_key=data["step_key"],
        trace=dict(data["trace"]),
        book=data["book"],
        about=data.get("about", ""),  # reminders stored before these were kept
        stale_at=datetime.fromisoformat(data["stale_at"]) if data.get("stale_at") else None,
        gathered=tuple(
            {name: _decode_fact(value) for name, value in facts.items()} for facts in data.get("gathered", ())
        ),
    )


def _encode_fact(value: Fact) -> list[Any]:
    if isinstance(value, datetime):
        return ["moment", value.isoformat()]
    if isinstance(value, Decimal):
        return ["decimal", str(value)]
    if isinstance(value, Money):
        return ["money", [str(value.amount), value.currency]]
    if isinstance(value, Titles):
        return ["titles", [list(value.titles), value.shown]]
    return ["int" if isinstance(value, int) else "text", value]


def _decode_fact(encoded: list[Any]) -> Fact:
    kind, value = encoded
    if kind == "moment":
        return datetime.fromisoformat(value)
    if kind == "decimal":
        return Decimal(value)
    if kind == "money":
        return Money(Decimal(value[0]), value[1])
    if kind == "titles":
        return Titles(tuple(value[0]), int(value[1]))
    return int(value) if kind == "int" else str(value)
