"""Notifications in Postgres: stored in batches, claimed with leases (FOR UPDATE SKIP LOCKED), listed newest
first. Statements are built once: the consumers and dispatchers run them thousands of times a second."""

from __future__ import annotations

import json
import uuid
from collections.abc import Collection, Iterable
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID

from services.notifications.app.ports import NotificationCursor, NotificationFilter, SmsSent
from services.notifications.data.notification_rows import json_value, to_notification, to_row
from services.notifications.data.tables import notifications as table
from services.notifications.domain.kinds import Channel, Kind
from services.notifications.domain.notifications import (
    NOTIFICATION,
    Notification,
    NotificationNotFound,
    Status,
)
from services.support.runtime.driver import DriverStatement
from services.support.runtime.repository import TrackingRepository
from services.support.runtime.upkeep import BATCH_ROWS

_UUIDS = ARRAY(UUID(as_uuid=True))
"""Lists of ids go as one array parameter (`= ANY`): one statement text, so one prepared statement."""
_COLUMNS = [column for column in table.c if column.name not in ("claimed_by", "claimed_until")]
_STORED = ["id", *(c.name for c in _COLUMNS if c.name != "id")]
_PG_TYPES = {UUID: "uuid", sa.Text: "text", sa.Integer: "integer", JSONB: "jsonb", sa.DateTime: "timestamptz"}
_INSERT = sa.text(
    f"INSERT INTO notifications ({', '.join(_STORED)}) SELECT {', '.join(_STORED)} "
    "FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS r("
    + ", ".join(f"{name} {_PG_TYPES[type(table.c[name].type)]}" for name in _STORED)
    + ") ON CONFLICT ON CONSTRAINT notifications_event_channel_recipient DO NOTHING RETURNING id"
)
"""A batch goes as one JSON parameter: one statement text whatever the batch's length, so one prepared statement
per connection (a multi-row VALUES made one text, and one prepared statement, per batch length: up to a hundred
per pooled connection, which held the service's memory after a burst)."""
_OUTCOME_FIELDS = (
    "status", "attempts", "max_attempts", "last_error", "provider_message_id", "sent_at", "next_attempt_at",
    "updated_at", "version",
)  # fmt: skip
_SAVE_OUTCOMES = sa.text(
    "UPDATE notifications AS n SET "
    + ", ".join(f"{name} = r.{name}" for name in _OUTCOME_FIELDS)
    + ", claimed_by = NULL, claimed_until = NULL FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS r(id uuid, "
    + ", ".join(f"{name} {_PG_TYPES[type(table.c[name].type)]}" for name in _OUTCOME_FIELDS)
    + ") WHERE n.id = r.id AND n.claimed_by = :worker RETURNING n.id"
)
"""A group's outcomes in one statement, as a batch is inserted (an UPDATE per notification cost a round of the
protocol and of the driver's parameter handling each). A claim another worker took over is left alone, and so
is one already recorded (a retry after a commit whose answer was lost)."""
_RELEASE = DriverStatement(
    table.update()
    .where(table.c.id == sa.any_(sa.bindparam("ids", type_=_UUIDS)), table.c.claimed_by == sa.bindparam("worker"))
    .values(claimed_by=None, claimed_until=None)
)
_EXTEND = DriverStatement(
    table.update()
    .where(table.c.id == sa.any_(sa.bindparam("ids", type_=_UUIDS)), table.c.claimed_by == sa.bindparam("worker"))
    .values(claimed_until=sa.bindparam("until"))
)
_RELEASE_ALL_OF = DriverStatement(
    table.update().where(table.c.claimed_by == sa.bindparam("worker")).values(claimed_by=None, claimed_until=None)
)
_DUE = (
    sa.select(table.c.id)
    .where(
        table.c.status == Status.QUEUED.value,
        table.c.channel == sa.bindparam("due_channel"),
        table.c.next_attempt_at <= sa.bindparam("now"),
        sa.or_(table.c.claimed_until.is_(None), table.c.claimed_until < sa.bindparam("now")),
    )
    .order_by(table.c.next_attempt_at)
    .limit(sa.bindparam("limit"))
    .with_for_update(skip_locked=True)
    .scalar_subquery()
)
_CLAIM = DriverStatement(
    table.update()
    .where(table.c.id.in_(_DUE))
    .values(claimed_by=sa.bindparam("worker"), claimed_until=sa.bindparam("until"))
    .returning(*_COLUMNS)
)
"""Each dispatcher's claim, once a poll or a wake-up at least: on the driver's transaction, no session made."""
_PAIRS = sa.select(
    sa.func.unnest(sa.bindparam("recipients", type_=_UUIDS)),
    sa.func.unnest(sa.bindparam("kinds", type_=ARRAY(sa.Text))),
)
_SIBLINGS = (
    sa.select(table.c.id)
    .where(
        table.c.status == Status.QUEUED.value,
        table.c.channel == sa.bindparam("due_channel"),
        table.c.next_attempt_at <= sa.bindparam("due_by"),
        sa.or_(table.c.claimed_until.is_(None), table.c.claimed_until < sa.bindparam("now")),
        sa.tuple_(table.c.recipient_id, table.c.kind).in_(_PAIRS),
    )
    .order_by(table.c.next_attempt_at)
    .limit(sa.bindparam("limit"))
    .with_for_update(skip_locked=True)
    .scalar_subquery()
)
_CLAIM_SIBLINGS = DriverStatement(
    table.update()
    .where(table.c.id.in_(_SIBLINGS))
    .values(claimed_by=sa.bindparam("worker"), claimed_until=sa.bindparam("until"))
    .returning(*_COLUMNS)
)
"""The notices of the readers and kinds just claimed that go out with them (found by the recipient's index)."""
_QUEUED_ABOUT = DriverStatement(
    sa.select(*_COLUMNS).where(
        table.c.status == Status.QUEUED.value,
        table.c.about != "",
        table.c.about == sa.any_(sa.bindparam("about", type_=ARRAY(sa.Text))),
    ),
    read=True,
)
"""Asked by every event that ends a loan or a hold: on the driver when the unit of work has its connection."""
_QUEUED_OF = sa.select(*_COLUMNS).where(
    table.c.status == Status.QUEUED.value,
    table.c.recipient_id == sa.bindparam("recipient"),
    table.c.channel == sa.bindparam("queued_channel"),
)
SMS_SENT_WITHIN = timedelta(days=2)
"""An SMS goes out within this of being made (quiet hours, a day of retries); one sent later escapes the count."""
_SMS_RECENT = (
    table.c.channel == Channel.SMS.value,
    table.c.status == Status.SENT.value,
    table.c.sent_at >= sa.bindparam("since"),
    table.c.created_at >= sa.bindparam("created_since"),  # keeps to the indexes on (recipient | address, created)
)
_ONE_SMS = sa.func.count(
    sa.distinct(sa.func.coalesce(sa.func.nullif(table.c.provider_message_id, ""), sa.cast(table.c.id, sa.Text)))
)
"""SMS sent, not notices: the notices one SMS named together (a batch) share the provider's id."""
_SMS_SINCE = DriverStatement(
    sa.union_all(
        sa.select(
            sa.literal("recipient").label("what"),
            sa.cast(table.c.recipient_id, sa.Text).label("key"),
            _ONE_SMS.label("sent"),
        )
        .where(table.c.recipient_id == sa.any_(sa.bindparam("ids", type_=_UUIDS)), *_SMS_RECENT)
        .group_by(table.c.recipient_id),
        sa.select(sa.literal("number"), table.c.address, _ONE_SMS)
        .where(table.c.address == sa.any_(sa.bindparam("numbers", type_=ARRAY(sa.Text))), *_SMS_RECENT)
        .group_by(table.c.address),
    )
)
"""Both counts of SMS sent in the window, in one round trip: per account, and per number (an index on SMS
addresses serves it)."""


FINISHED_LONG_AGO = table.delete().where(
    table.c.id.in_(
        sa.select(table.c.id)
        .where(
            table.c.created_at < sa.func.now() - sa.bindparam("keep", type_=sa.Interval),
            table.c.status != Status.QUEUED.value,
        )
        .limit(BATCH_ROWS)
    )
)
"""Notifications sent, failed or suppressed, made more than `keep` ago (`notifications_kept_days`): each keeps
an address and a whole message, which the audit trail leaves out. Found by the index on created_at."""


class SqlNotificationRepository(TrackingRepository):
    async def add_many(self, notifications: list[Notification]) -> list[Notification]:
        rows = json.dumps([{"id": n.id, **to_row(n)} for n in notifications], default=json_value)
        stored = set((await self.session.execute(_INSERT, {"rows": rows})).scalars().all())
        return [self._track(n) for n in notifications if n.id in stored]

    async def get(self, notification_id: uuid.UUID) -> Notification:
        row = (await self.session.execute(sa.select(*_COLUMNS).where(table.c.id == notification_id))).first()
        if row is None:
            raise NotificationNotFound(NOTIFICATION.format(notification_id))
        return self._track(to_notification(row))

    async def save(self, notification: Notification) -> None:
        await self._update_versioned(
            table,
            row_id=notification.id,
            version=notification.version - 1,
            values={k: v for k, v in to_row(notification).items() if k != "version"},
            name=notification.name,
        )

    async def save_outcomes(self, notifications: list[Notification], *, worker: str) -> None:
        rows = [
            {"id": n.id, **{name: row[name] for name in _OUTCOME_FIELDS}} for n in notifications for row in (to_row(n),)
        ]
        parameters = {"rows": json.dumps(rows, default=json_value), "worker": worker}
        stored = set((await self.session.execute(_SAVE_OUTCOMES, parameters)).scalars().all())
        for notification in notifications:
            if notification.id in stored:  # its events (NotificationSent, …) are announced once
                self._track(notification)

    async def release(self, notification_ids: list[uuid.UUID], *, worker: str) -> None:
        await self._execute(_RELEASE, {"ids": notification_ids, "worker": worker})

    async def extend_claims(self, notification_ids: list[uuid.UUID], *, worker: str, until: datetime) -> None:
        await self._execute(_EXTEND, {"ids": notification_ids, "worker": worker, "until": until})

    async def release_claims_of(self, worker: str) -> int:
        return await self._execute(_RELEASE_ALL_OF, {"worker": worker})

    async def claim_due(
        self, channel: Channel, *, now: datetime, limit: int, worker: str, until: datetime
    ) -> list[Notification]:
        parameters = {"due_channel": channel.value, "now": now, "limit": limit, "worker": worker, "until": until}
        rows = await self._fetch(_CLAIM, parameters)
        return sorted((to_notification(row) for row in rows), key=lambda n: n.next_attempt_at)

    async def claim_siblings(
        self,
        channel: Channel,
        of: Collection[tuple[uuid.UUID, Kind]],
        *,
        now: datetime,
        due_by: datetime,
        limit: int,
        worker: str,
        until: datetime,
    ) -> list[Notification]:
        pairs = list(of)
        parameters = {
            "due_channel": channel.value,
            "recipients": [recipient for recipient, _ in pairs],
            "kinds": [kind.value for _, kind in pairs],
            "now": now,
            "due_by": due_by,
            "limit": limit,
            "worker": worker,
            "until": until,
        }
        rows = await self._fetch(_CLAIM_SIBLINGS, parameters)
        return [to_notification(row) for row in rows]

    async def queued_about(self, about: Iterable[str]) -> list[Notification]:
        rows = await self._fetch(_QUEUED_ABOUT, {"about": list(about)})
        return [self._track(to_notification(row)) for row in rows]

    async def queued_of(self, recipient_id: uuid.UUID, channel: Channel) -> list[Notification]:
        parameters = {"recipient": recipient_id, "queued_channel": channel.value}
        return [self._track(to_notification(row)) for row in (await self.session.execute(_QUEUED_OF, parameters)).all()]

    async def sms_sent_since(
        self, recipient_ids: Iterable[uuid.UUID], numbers: Iterable[str], since: datetime
    ) -> SmsSent:
        created_since = since - SMS_SENT_WITHIN  # an SMS sent in the window was made no longer ago than this
        parameters = {
            "ids": list(recipient_ids),
            "numbers": list(numbers),
            "since": since,
            "created_since": created_since,
        }
        rows = await self._fetch(_SMS_SINCE, parameters)
        by_recipient = {uuid.UUID(r["key"]): int(r["sent"]) for r in rows if r["what"] == "recipient"}
        return SmsSent(by_recipient, {r["key"]: int(r["sent"]) for r in rows if r["what"] == "number"})

    async def list_newest_first(
        self, where: NotificationFilter, *, after: NotificationCursor | None, limit: int
    ) -> list[Notification]:
        query = sa.select(*_COLUMNS).where(*_conditions(where)).order_by(table.c.created_at.desc(), table.c.id.desc())
        if after is not None:
            cursor = sa.tuple_(sa.literal(after.created_at), sa.literal(after.notification_id))
            query = query.where(sa.tuple_(table.c.created_at, table.c.id) < cursor)
        return [to_notification(row) for row in (await self.session.execute(query.limit(limit))).all()]

    async def count(self, where: NotificationFilter) -> int:
        total = await self.session.scalar(sa.select(sa.func.count()).select_from(table).where(*_conditions(where)))
        return int(total or 0)


def _conditions(where: NotificationFilter) -> list[sa.ColumnElement[bool]]:
    conditions: list[sa.ColumnElement[bool]] = []
    if where.recipient_id is not None:
        conditions.append(table.c.recipient_id == where.recipient_id)
    if where.status is not None:
        conditions.append(table.c.status == where.status.value)
    if where.channel is not None:
        conditions.append(table.c.channel == where.channel.value)
    if where.kind is not None:
        conditions.append(table.c.kind == where.kind.value)
    if where.created_from is not None:
        conditions.append(table.c.created_at >= where.created_from)
    if where.created_before is not None:
        conditions.append(table.c.created_at < where.created_before)
    return conditions
