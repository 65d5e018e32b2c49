"""In-memory ports for the notifications use cases: the same Protocols, dicts for tables.

Faithful where the use cases rely on the database: a unit of work keeps its writes only when it commits,
hands out copies, refuses a second notification for the same event, channel and recipient, records each
schedule step once, gives each due notification to one claimant, and on commit drains the events of
every notification it handed out (what the outbox would store).
"""

from __future__ import annotations

import copy
import uuid
from collections import Counter
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from types import TracebackType
from typing import Any, Self

from services.notifications.app.ports import NotificationCursor, NotificationFilter, SmsSent
from services.notifications.data.template_seeds import BUILTIN
from services.notifications.domain.follows import FollowedAuthor
from services.notifications.domain.kinds import Channel, Kind
from services.notifications.domain.notifications import NOTIFICATION, Notification, NotificationNotFound, Status
from services.notifications.domain.occurrences import Reminder
from services.notifications.domain.recipients import AccountStatus, Recipient
from services.notifications.domain.templates import Template
from services.support.runtime.conflicts import CONCURRENT_UPDATE
from services.support.runtime.errors import Conflict
from services.support.runtime.events import DomainEvent

from .fake_follows import FakeFollows
from .fake_notification_repositories import FakeRecipients, FakeReminders, FakeRequestLog, FakeStepKeys, FakeTemplates


@dataclass
class FakeNotificationsDatabase:
    notifications: dict[uuid.UUID, Notification] = field(default_factory=dict)
    claims: dict[uuid.UUID, tuple[str, datetime]] = field(default_factory=dict)
    recipients: dict[uuid.UUID, Recipient] = field(default_factory=dict)
    templates: dict[str, Template] = field(default_factory=lambda: dict(BUILTIN))
    step_keys: set[str] = field(default_factory=set)
    reminders: dict[tuple[str, str], Reminder] = field(default_factory=dict)
    requests: dict[uuid.UUID, tuple[str, str]] = field(default_factory=dict)
    follows: dict[uuid.UUID, FollowedAuthor] = field(default_factory=dict)
    published: list[DomainEvent] = field(default_factory=list)
    commits: int = 0

    def unit_of_work(self) -> FakeNotificationsUnitOfWork:
        return FakeNotificationsUnitOfWork(self)

    def of(self, recipient: Recipient) -> list[Notification]:
        return sorted((n for n in self.notifications.values() if n.recipient_id == recipient.user_id),
                      key=lambda n: (n.created_at, n.channel.value))  # fmt: skip


class FakeNotificationsUnitOfWork:
    def __init__(self, db: FakeNotificationsDatabase) -> None:
        self._db = db
        self._reading = False

    def reading(self) -> Self:
        self._reading = True  # the next block must not commit
        return self

    async def __aenter__(self) -> Self:
        self.work = copy.deepcopy(
            (self._db.notifications, self._db.claims, self._db.recipients, self._db.templates, self._db.step_keys,
             self._db.reminders, self._db.requests, self._db.follows)
        )  # fmt: skip
        self.seen: list[Notification] = []
        self.templates_seen: list[Template] = []
        self.notifications = FakeNotifications(self)
        self.recipients = FakeRecipients(self.work[2])
        self.templates = FakeTemplates(self.work[3], seen=self.templates_seen)
        self.step_keys = FakeStepKeys(self.work[4])
        self.reminders = FakeReminders(self.work[5])
        self.requests = FakeRequestLog(self.work[6])
        self.follows = FakeFollows(self.work[7])
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.seen = []
        self._reading = False

    async def commit(self) -> None:
        assert not self._reading, "a block that only reads does not commit"
        db = self._db
        for target, written in zip(
            (db.notifications, db.claims, db.recipients, db.templates, db.step_keys, db.reminders, db.requests,
             db.follows),
            self.work, strict=True,
        ):  # fmt: skip
            target.clear()
            target.update(written)  # type: ignore[arg-type]
        for aggregate in (*self.seen, *self.templates_seen):
            db.published.extend(aggregate.events)
            aggregate.events.clear()
        db.commits += 1


def _stored(n: Notification) -> Notification:
    stored = copy.deepcopy(n)
    stored.events.clear()
    return stored


class FakeNotifications:
    def __init__(self, uow: FakeNotificationsUnitOfWork) -> None:
        self._uow = uow
        self._rows: dict[uuid.UUID, Notification] = uow.work[0]
        self._claims: dict[uuid.UUID, tuple[str, datetime]] = uow.work[1]

    async def add_many(self, notifications: list[Notification]) -> list[Notification]:
        keys = {(n.source_event_id, n.channel, n.recipient_id) for n in self._rows.values() if n.source_event_id}
        stored = []
        for n in notifications:
            key = (n.source_event_id, n.channel, n.recipient_id)
            if n.source_event_id and key in keys:
                continue
            keys.add(key)
            self._rows[n.id] = _stored(n)
            self._uow.seen.append(n)
            stored.append(n)
        return stored

    async def get(self, notification_id: uuid.UUID) -> Notification:
        if notification_id not in self._rows:
            raise NotificationNotFound(NOTIFICATION.format(notification_id))
        found = copy.deepcopy(self._rows[notification_id])
        self._uow.seen.append(found)
        return found

    async def save(self, notification: Notification) -> None:
        if self._rows[notification.id].version != notification.version - 1:
            raise Conflict("changed concurrently", reason=CONCURRENT_UPDATE)
        self._rows[notification.id] = _stored(notification)

    async def save_outcomes(self, notifications: list[Notification], *, worker: str) -> None:
        for n in notifications:
            if self._claims.get(n.id, ("",))[0] == worker:
                self._rows[n.id] = _stored(n)
                del self._claims[n.id]
                self._uow.seen.append(n)

    async def release(self, notification_ids: list[uuid.UUID], *, worker: str) -> None:
        for notification_id in notification_ids:
            if self._claims.get(notification_id, ("",))[0] == worker:
                del self._claims[notification_id]

    async def extend_claims(self, notification_ids: list[uuid.UUID], *, worker: str, until: datetime) -> None:
        for notification_id in notification_ids:
            if self._claims.get(notification_id, ("",))[0] == worker:
                self._claims[notification_id] = (worker, until)

    async def release_claims_of(self, worker: str) -> int:
        mine = [key for key, (owner, _) in self._claims.items() if owner == worker]
        for key in mine:
            del self._claims[key]
        return len(mine)

    async def claim_due(
        self, channel: Channel, *, now: datetime, limit: int, worker: str, until: datetime
    ) -> list[Notification]:
        due = sorted(
            (n for n in self._rows.values() if n.status == Status.QUEUED and n.channel == channel
             and n.next_attempt_at <= now and (n.id not in self._claims or self._claims[n.id][1] < now)),
            key=lambda n: n.next_attempt_at,
        )[:limit]  # fmt: skip
        for n in due:
            self._claims[n.id] = (worker, until)
        return [copy.deepcopy(n) for n in due]

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
        pairs = set(of)
        found = sorted(
            (n for n in self._rows.values() if n.status == Status.QUEUED and n.channel == channel
             and (n.recipient_id, n.kind) in pairs and n.next_attempt_at <= due_by
             and (n.id not in self._claims or self._claims[n.id][1] < now)),
            key=lambda n: n.next_attempt_at,
        )[:limit]  # fmt: skip
        for n in found:
            self._claims[n.id] = (worker, until)
        return [copy.deepcopy(n) for n in found]

    async def queued_about(self, about: Iterable[str]) -> list[Notification]:
        wanted = set(about) - {""}
        return self._seen([n for n in self._rows.values() if n.status == Status.QUEUED and n.about in wanted])

    async def queued_of(self, recipient_id: uuid.UUID, channel: Channel) -> list[Notification]:
        queued = [n for n in self._rows.values() if n.status == Status.QUEUED]
        return self._seen([n for n in queued if n.recipient_id == recipient_id and n.channel == channel])

    def _seen(self, found: list[Notification]) -> list[Notification]:
        copies = [copy.deepcopy(n) for n in found]
        self._uow.seen.extend(copies)
        return copies

    async def sms_sent_since(
        self, recipient_ids: Iterable[uuid.UUID], numbers: Iterable[str], since: datetime
    ) -> SmsSent:
        recent = [
            n
            for n in self._rows.values()
            if n.channel == Channel.SMS and n.status == Status.SENT and n.sent_at is not None and n.sent_at >= since
        ]
        people, wanted_numbers = set(recipient_ids), set(numbers)
        recent = list({n.provider_message_id or str(n.id): n for n in recent}.values())  # one SMS, one count
        return SmsSent(
            Counter(n.recipient_id for n in recent if n.recipient_id in people),
            Counter(n.address for n in recent if n.address in wanted_numbers),
        )

    def _matching(self, where: NotificationFilter) -> list[Notification]:
        def ok(n: Notification) -> bool:
            return (
                (where.recipient_id is None or n.recipient_id == where.recipient_id)
                and (where.status is None or n.status == where.status)
                and (where.channel is None or n.channel == where.channel)
                and (where.kind is None or n.kind == where.kind)
                and (where.created_from is None or n.created_at >= where.created_from)
                and (where.created_before is None or n.created_at < where.created_before)
            )

        return [copy.deepcopy(n) for n in self._rows.values() if ok(n)]

    async def list_newest_first(
        self, where: NotificationFilter, *, after: NotificationCursor | None, limit: int
    ) -> list[Notification]:
        found = sorted(self._matching(where), key=lambda n: (n.created_at, n.id), reverse=True)
        if after is not None:
            found = [n for n in found if (n.created_at, n.id) < (after.created_at, after.notification_id)]
        return found[:limit]

    async def count(self, where: NotificationFilter) -> int:
        return len(self._matching(where))


def recipient(**fields: Any) -> Recipient:
    """An active patron with an email and a phone, who wants SMS too (unless told otherwise)."""
    base = Recipient(
        user_id=uuid.uuid4(),
        email="ada@example.org",
        phone="+79991234567",
        display_name="Ada",
        sms_opt_in=True,
        status=AccountStatus.ACTIVE,
    )
    return replace(base, **fields)
