"""One message to one person on one channel, from queued to sent, failed or suppressed. Pure."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from services.notifications.domain.delivery import Failed, Outcome, RetryPolicy, Sent, redacted
from services.notifications.domain.kinds import Channel, Kind
from services.notifications.domain.occurrences import Ending
from services.notifications.domain.recipients import Route
from services.support.runtime.errors import FailedPrecondition, NotFound
from services.support.runtime.events import DomainEvent
from services.support.runtime.names import NamePattern
from services.support.runtime.versioning import Versioned

NOTIFICATION = NamePattern("notifications/{notification}")


class Status(StrEnum):
    QUEUED = "queued"
    SENT = "sent"
    FAILED = "failed"
    SUPPRESSED = "suppressed"


@dataclass(frozen=True, slots=True)
class Content:
    """What was rendered: the subject (email), the text, the HTML (email), from which template version."""

    subject: str
    text: str
    html: str
    template: str
    """The template id it came from, "" for none."""
    template_version: int
    locale: str


@dataclass(slots=True)
class Notification(Versioned):
    id: uuid.UUID
    recipient_id: uuid.UUID
    channel: Channel
    address: str
    kind: Kind
    content: Content
    params: dict[str, str]
    status: Status
    created_at: datetime
    updated_at: datetime
    next_attempt_at: datetime
    source_event_id: uuid.UUID | None = None
    event_at: datetime | None = None
    attempts: int = 0
    max_attempts: int = 0
    """The try after which it fails for good; RetryNotification extends it by a full set of tries."""
    last_error: str = ""
    suppress_reason: str = ""
    provider_message_id: str = ""
    sent_at: datetime | None = None
    trace: dict[str, str] = field(default_factory=dict)
    """The W3C trace context of the event that caused it: its delivery joins the event's trace."""
    time_zone: str = ""
    """The recipient's zone when it was queued (a retried SMS keeps their quiet hours too)."""
    sent_by: str = ""
    """"users/{user}": the staff member who sent it; "" for the system's (caused by an event)."""
    retried_by: str = ""
    """"users/{user}": who last queued it again after it failed; "" if nobody did."""
    about: str = ""
    """"loans/{loan}" or "holds/{hold}" a reminder is about (see Occurrence.about); "" for the rest."""
    stale_at: datetime | None = None
    """The moment it announces: it is not sent after it."""
    version: int = 1
    events: list[DomainEvent] = field(default_factory=list)

    @property
    def name(self) -> str:
        return NOTIFICATION.format(self.id)

    @property
    def recipient(self) -> str:
        return f"users/{self.recipient_id}"

    @property
    def actor(self) -> str:
        """Who the audit trail names for its delivery: whoever retried it last, else its sender ("" the system)."""
        return self.retried_by or self.sent_by

    @classmethod
    def queue(
        cls,
        *,
        recipient_id: uuid.UUID,
        channel: Channel,
        address: str,
        kind: Kind,
        content: Content,
        params: dict[str, str],
        now: datetime,
        not_before: datetime,
        policy: RetryPolicy,
        source_event_id: uuid.UUID | None = None,
        event_at: datetime | None = None,
        trace: dict[str, str] | None = None,
        suppress_reason: str = "",
        time_zone: str = "",
        sent_by: str = "",
        about: str = "",
        stale_at: datetime | None = None,
    ) -> Notification:
        """A new notification, QUEUED for `not_before` (or SUPPRESSED with the reason)."""
        return cls(
            id=uuid.uuid4(),
            recipient_id=recipient_id,
            channel=channel,
            address=address,
            kind=kind,
            content=content,
            params=params,
            status=Status.SUPPRESSED if suppress_reason else Status.QUEUED,
            created_at=now,
            updated_at=now,
            next_attempt_at=not_before,
            source_event_id=source_event_id,
            event_at=event_at,
            max_attempts=policy.max_attempts,
            suppress_reason=suppress_reason,
            trace=dict(trace or {}),
            time_zone=time_zone,
            sent_by=sent_by,
            about=about,
            stale_at=stale_at,
        )

    def record(self, outcome: Outcome, *, now: datetime, policy: RetryPolicy, not_before: datetime) -> None:
        """One delivery attempt's outcome: SENT, QUEUED again after a backoff (never before `not_before`),
        or FAILED for good (a permanent refusal, or the last try)."""
        if self.status != Status.QUEUED:
            return  # another process recorded it first
        self.attempts += 1
        self.updated_at = now
        self.version += 1
        if isinstance(outcome, Sent):
            self.status, self.sent_at, self.last_error = Status.SENT, now, ""
            self.provider_message_id = outcome.provider_message_id
            self.events.append(NotificationSent(occurred_at=now, notification=self))
            return
        self._fail(outcome, now=now, policy=policy, not_before=not_before)

    def _fail(self, outcome: Failed, *, now: datetime, policy: RetryPolicy, not_before: datetime) -> None:
        reason = redacted(outcome.reason, self.address)  # kept, and copied into the audit trail: no addresses
        if outcome.transient and self.attempts < self.max_attempts:
            self.last_error = f"temporary: {reason}"
            waited = now + outcome.retry_after if outcome.retry_after else now
            self.next_attempt_at = max(now + policy.delay(self.attempts), not_before, waited)
            return
        why = "temporary, and that was the last try" if outcome.transient else "permanent"
        self.status, self.last_error = Status.FAILED, f"{why}: {reason}"
        self.events.append(NotificationFailed(occurred_at=now, notification=self))

    @property
    def by_system(self) -> bool:
        """Caused by an event (the system's words), not a message staff wrote."""
        return self.source_event_id is not None

    def reroute(self, route: Route, *, now: datetime) -> bool:
        """A QUEUED notification follows its recipient as they are now: SUPPRESSED with the route's reason, or
        sent to the route's address (it changed since it was queued). Returns whether it changed."""
        if self.status != Status.QUEUED or not self._follow(route):
            return False
        self.updated_at = now
        self.version += 1
        return True

    def _follow(self, route: Route) -> bool:
        if route.suppress_reason:
            self.status, self.suppress_reason = Status.SUPPRESSED, route.suppress_reason
            return True
        changed, self.address = route.address != self.address, route.address
        return changed

    def drop(self, reason: str, *, now: datetime) -> bool:
        """A QUEUED notification that no longer has a point is SUPPRESSED with the reason; whether it was."""
        if self.status != Status.QUEUED:
            return False
        self.status, self.suppress_reason = Status.SUPPRESSED, reason
        self.updated_at = now
        self.version += 1
        return True

    def ended_by(self, ending: Ending) -> bool:
        """Whether `ending` takes this one's point away: about the same thing, and caused before it ended."""
        return bool(self.about) and self.about == ending.about and (self.event_at or self.created_at) <= ending.at

    def stale(self, now: datetime) -> bool:
        """Whether it would arrive after the moment it announces."""
        return self.stale_at is not None and now >= self.stale_at

    def hold_back(self, until: datetime, *, time_zone: str, now: datetime) -> None:
        """Not before `until` (the quiet hours of the recipient's zone `time_zone`, as it is now)."""
        self.next_attempt_at, self.time_zone = until, time_zone
        self.updated_at = now
        self.version += 1

    def follow_zone(self, time_zone: str, *, now: datetime) -> bool:
        """An SMS held back for quiet hours (never tried yet) is due at once when its recipient moves to
        another zone: the dispatcher holds it back again if it is night where they are now. Whether it was."""
        if self.status != Status.QUEUED or self.channel != Channel.SMS or self.attempts or self.time_zone == time_zone:
            return False
        self.next_attempt_at, self.time_zone = min(self.next_attempt_at, self.created_at), time_zone
        self.updated_at = now
        self.version += 1
        return True

    def retry(self, *, now: datetime, policy: RetryPolicy, route: Route | None = None, by: str = "") -> None:
        """Queue a FAILED notification again, with a full set of tries, on `route` when given (the recipient as
        they are now: their current address, or SUPPRESSED if they closed the account or opted out since); `by`
        is who asked."""
        if self.status != Status.FAILED:
            raise FailedPrecondition(f"{self.name} is {self.status}, not failed", reason="NOT_FAILED")
        self.status = Status.QUEUED
        self.max_attempts = self.attempts + policy.max_attempts
        self.retried_by = by
        self.next_attempt_at = now
        self.updated_at = now
        self.version += 1
        if route is not None:
            self._follow(route)


class NotificationNotFound(NotFound):
    def __init__(self, name: str) -> None:
        super().__init__(name, f"{name} not found")


@dataclass(frozen=True, kw_only=True, slots=True)
class NotificationSent(DomainEvent):
    notification: Notification


@dataclass(frozen=True, kw_only=True, slots=True)
class NotificationFailed(DomainEvent):
    notification: Notification
