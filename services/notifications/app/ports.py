"""What the notifications use cases need from the outside world, in domain terms: no SQL, gRPC, NATS,
Jinja2, SMTP or HTTP type here. The data layer implements these (data/); unit tests use in-memory ones
(tests/unit/notifications/fakes.py)."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Protocol, Self

from services.notifications.domain.delivery import Outcome
from services.notifications.domain.follows import FollowedAuthor
from services.notifications.domain.kinds import Channel, Kind
from services.notifications.domain.notifications import Notification, Status
from services.notifications.domain.occurrences import Reminder
from services.notifications.domain.recipients import Recipient
from services.notifications.domain.templates import Template, TemplateProblem


@dataclass(frozen=True, slots=True)
class NotificationFilter:
    """Which notifications a list shows; every condition given must hold."""

    recipient_id: uuid.UUID | None = None
    status: Status | None = None
    channel: Channel | None = None
    kind: Kind | None = None
    created_from: datetime | None = None
    created_before: datetime | None = None


@dataclass(frozen=True, slots=True)
class NotificationCursor:
    """Where a newest-first list resumes: strictly after this (created_at, id)."""

    created_at: datetime
    notification_id: uuid.UUID


@dataclass(frozen=True, slots=True)
class SmsSent:
    """SMS counted for the hourly limits: per account, and per phone number (one number may be given by many
    accounts: nobody verifies it)."""

    by_recipient: Mapping[uuid.UUID, int]
    by_number: Mapping[str, int]


class NotificationRepository(Protocol):
    async def add_many(self, notifications: list[Notification]) -> list[Notification]:
        """Stores the new notifications; returns those stored (one caused by the same event, channel and
        recipient as a stored one is left out: a redelivered event never sends twice)."""

    async def get(self, notification_id: uuid.UUID) -> Notification:
        """Raises NotificationNotFound."""

    async def save(self, notification: Notification) -> None:
        """Writes back one changed notification unless someone changed it since it was read (Conflict)."""

    async def save_outcomes(self, notifications: list[Notification], *, worker: str) -> None:
        """Writes back notifications this worker still holds, and releases their claims; only theirs have their
        events stored with the commit (one recorded already, or taken over by another worker, is left alone)."""

    async def release(self, notification_ids: list[uuid.UUID], *, worker: str) -> None:
        """Gives claims back untouched (the channel was down: the attempt was never made)."""

    async def release_claims_of(self, worker: str) -> int:
        """Gives back every claim `worker` holds (a restarted process under the same name)."""

    async def extend_claims(self, notification_ids: list[uuid.UUID], *, worker: str, until: datetime) -> None:
        """Holds the claims `worker` still has on these until `until` (a send still waiting for its answer)."""

    async def claim_due(
        self, channel: Channel, *, now: datetime, limit: int, worker: str, until: datetime
    ) -> list[Notification]:
        """Up to `limit` QUEUED notifications due by `now` that nobody holds, held by `worker` until `until`
        (two processes never hold the same one)."""

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
        """Up to `limit` more QUEUED notifications on the channel of these (recipient, kind) pairs, due by
        `due_by`, that nobody holds, held by `worker` until `until`: the notices that go out with those
        claimed as one message (domain/batches.py)."""

    async def queued_about(self, about: Iterable[str]) -> list[Notification]:
        """The QUEUED notifications about these loans or holds (Notification.about)."""

    async def queued_of(self, recipient_id: uuid.UUID, channel: Channel) -> list[Notification]:
        """One recipient's QUEUED notifications on the channel."""

    async def sms_sent_since(
        self, recipient_ids: Iterable[uuid.UUID], numbers: Iterable[str], since: datetime
    ) -> SmsSent:
        """SMS sent since `since` to each recipient and to each phone number (the hourly limits): one still
        queued (for the end of the quiet hours, say) has not been sent and does not count; the notices one SMS
        named together (a batch, the same provider id) count as one."""

    async def list_newest_first(
        self, where: NotificationFilter, *, after: NotificationCursor | None, limit: int
    ) -> list[Notification]: ...

    async def count(self, where: NotificationFilter) -> int: ...


class RecipientRepository(Protocol):
    async def get_many(self, user_ids: Iterable[uuid.UUID], *, lock: bool = False) -> dict[uuid.UUID, Recipient]:
        """Those stored; with `lock`, held until the transaction ends (nobody else writes them meanwhile)."""

    async def save(self, recipient: Recipient) -> None:
        """Insert or replace."""

    async def add(self, recipient: Recipient) -> bool:
        """Insert unless the account is stored already; whether it was inserted."""

    async def count(self) -> int: ...


class TemplateRepository(Protocol):
    async def current(self) -> Mapping[str, Template]:
        """Every template by id, as stored now (cheap to call often: the data layer caches by version)."""

    async def get(self, template_id: str) -> Template:
        """Raises TemplateNotFound."""

    async def save(self, template: Template) -> None:
        """Stores a new version unless another update won since it was read (Conflict)."""

    async def add_missing(self, templates: Iterable[Template]) -> int:
        """Stores the templates whose id is not stored yet (the seeds); returns how many."""

    def builtin(self, template_id: str) -> Template | None:
        """The template the service ships with (used when a stored one cannot render)."""


class StepKeys(Protocol):
    async def claim(self, keys: Iterable[str]) -> set[str]:
        """Records the keys; returns those not recorded before (each schedule step is told once)."""


class ReminderRepository(Protocol):
    async def schedule(self, reminders: Iterable[Reminder]) -> None:
        """Stores reminders (one per key and kind; scheduling again replaces)."""

    async def cancel(self, keys: Iterable[str]) -> None: ...

    async def gather(self, digests: Iterable[Reminder]) -> None:
        """Stores digests (one per key and kind): one already stored keeps its due time and adds what these
        gathered to its own."""

    async def cancel_under(self, prefix: str) -> None:
        """Cancels every reminder whose key begins with `prefix`."""

    async def take_due(self, now: datetime, *, limit: int) -> list[Reminder]:
        """Removes and returns up to `limit` reminders due by `now` (locked: two processes never take the same)."""


@dataclass(frozen=True, slots=True)
class FollowCursor:
    """Where a reader's newest-first list of follows resumes: strictly after this (created_at, id)."""

    created_at: datetime
    follow_id: uuid.UUID


class FollowRepository(Protocol):
    async def add(self, follow: FollowedAuthor) -> FollowedAuthor | None:
        """Stores the follow; None when the reader follows that author (its key) already."""

    async def count_of(self, user_id: uuid.UUID, *, lock: bool = False) -> int:
        """How many authors the reader follows; with `lock`, no other transaction adds or counts theirs
        (locked) until this one ends (the limit holds under concurrent calls)."""

    async def by_key(self, user_id: uuid.UUID, key: str) -> FollowedAuthor | None: ...

    async def get(self, user_id: uuid.UUID, follow_id: uuid.UUID) -> FollowedAuthor:
        """Raises FollowedAuthorNotFound."""

    async def remove(self, user_id: uuid.UUID, follow_id: uuid.UUID) -> None:
        """Raises FollowedAuthorNotFound."""

    async def list_of(self, user_id: uuid.UUID, *, after: FollowCursor | None, limit: int) -> list[FollowedAuthor]:
        """Newest first."""

    async def followers(self, words: Collection[str]) -> list[FollowedAuthor]:
        """Every follow with one of these whole words (a superset of the follows that match: the caller
        matches them by the whole name)."""

    async def drop_all_of(self, user_id: uuid.UUID) -> int:
        """Forgets what the reader follows (their account is closed); how many follows there were."""


class RequestLog(Protocol):
    async def recall(self, request_id: uuid.UUID | None, operation: str) -> str | None: ...

    async def remember(self, request_id: uuid.UUID | None, operation: str, resource: str) -> None: ...


class NotificationsUnitOfWork(Protocol):
    """One transaction over the notifications database; `commit()` also stores the events recorded."""

    @property
    def notifications(self) -> NotificationRepository: ...
    @property
    def recipients(self) -> RecipientRepository: ...
    @property
    def templates(self) -> TemplateRepository: ...
    @property
    def step_keys(self) -> StepKeys: ...
    @property
    def reminders(self) -> ReminderRepository: ...
    @property
    def requests(self) -> RequestLog: ...
    @property
    def follows(self) -> FollowRepository: ...

    def reading(self) -> Self:
        """The next `async with` block only reads (no transaction: each read sees what is committed)."""

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...

    async def commit(self) -> None: ...


@dataclass(frozen=True, slots=True)
class Rendered:
    subject: str
    text: str
    html: str


class RenderFailed(Exception):
    """A stored template could not render these values (the caller falls back to the built-in one)."""


class TemplateRenderer(Protocol):
    async def problems(self, template: Template) -> list[TemplateProblem]:
        """Everything wrong with a template before it is stored: syntax (with the line), variables its kind
        does not offer, anything the sandbox refuses or that costs too much to render."""

    def variables(self, template: Template) -> frozenset[str]:
        """The variables a (valid) template uses."""

    def render(self, template: Template, variables: Mapping[str, str]) -> Rendered:
        """Raises RenderFailed."""


class Accounts(Protocol):
    """The users service, asked for the accounts the projection does not hold."""

    async def look_up(self, user_ids: Collection[uuid.UUID]) -> Mapping[uuid.UUID, Recipient | None]:
        """Each account as the users service has it now, None for one it has not; raises DependencyUnavailable
        when it cannot be asked."""


class Catalog(Protocol):
    async def book_title(self, book: str) -> str:
        """The title of "books/{book}"; "" when unknown or the catalog cannot be reached."""


class ChannelUnavailable(Exception):
    """The mail server or the provider cannot be reached (or refuses every message for now): nothing was
    attempted; the notification waits, and its tries are not spent."""


class ChannelRefused(ChannelUnavailable):
    """The mail server or the provider refuses the library itself (its login, its sender address, a relay
    denied): nothing about the message or its reader, so the notification waits like for an outage; someone
    has to fix the settings or the relay, so it is logged as an error."""


class Sender(Protocol):
    """One channel: hands a notification to the mail server or the SMS provider."""

    async def send(self, notification: Notification) -> Outcome:
        """Sent or Failed (transient or permanent); raises ChannelUnavailable."""

    async def probe(self) -> None:
        """Returns when the channel answers again; raises ChannelUnavailable while it does not."""
