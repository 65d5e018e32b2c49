"""Something that happened to a patron and may be worth telling them (an Occurrence), and the reminders
notifications schedule themselves (a hold about to expire). Made from events by the consumers. Pure."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from services.notifications.domain.kinds import Kind
from services.notifications.domain.recipients import Recipient
from services.notifications.domain.wording import Fact


@dataclass(frozen=True, slots=True)
class Digest:
    """Where an occurrence goes when its step was told already (another new book by a followed author within
    the hour): not dropped, but gathered with the others of its step into one notice told at `due_at`."""

    item_key: str
    """The step key of this one item (this book, for this reader): told at once or gathered, once."""
    due_at: datetime


@dataclass(frozen=True, slots=True)
class Occurrence:
    """`kind` happened to the user `recipient_id` (event `event_id`), with these facts for the templates.

    `step_key` names a reminder of a schedule (loan, kind, due time, step): whatever event ids announce it,
    it is told once. Empty for everything else (the event id alone makes it idempotent)."""

    event_id: uuid.UUID
    occurred_at: datetime
    kind: Kind
    recipient_id: uuid.UUID
    facts: Mapping[str, Fact] = field(default_factory=dict)
    step_key: str = ""
    trace: Mapping[str, str] = field(default_factory=dict)
    book: str = ""
    """"books/{book}" whose title the facts lack (holds carry no title): looked up before wording."""
    about: str = ""
    """"loans/{loan}" or "holds/{hold}" a reminder is about: the event that ends it (a return, a renewal, a
    hold collected) drops its notifications still waiting (quiet hours, a backoff). "" for the rest."""
    stale_at: datetime | None = None
    """The moment it announces (a due time, a pickup deadline): not sent after it."""
    as_was: Recipient | None = None
    """The account as it was before the change it tells of (a new email address): told by it, to its
    addresses; None: by the account as it is now."""
    digest: Digest | None = None
    """Gathered into its step's digest when the step was told already; None: dropped then."""
    gathered: tuple[Mapping[str, Fact], ...] = ()
    """A digest's: the facts of each occurrence gathered into it, in the order they came."""


@dataclass(frozen=True, slots=True)
class Reminder:
    """A notification to send at `due_at` unless cancelled first (e.g. "your hold expires tomorrow")."""

    key: str
    """What it is about, e.g. "holds/{id}": the event that ends it cancels by this key."""
    due_at: datetime
    occurrence: Occurrence


@dataclass(frozen=True, slots=True)
class Ending:
    """What `about` reminded of no longer holds since `at` (the loan was returned): its notifications caused
    before then and still waiting are not sent, for `reason`."""

    about: str
    at: datetime
    reason: str


@dataclass(frozen=True, slots=True)
class Intake:
    """What one event asks of notifications: tell someone now, schedule a reminder, cancel reminders, drop
    the waiting notifications of what ended."""

    event_id: uuid.UUID
    occurrences: tuple[Occurrence, ...] = ()
    schedule: tuple[Reminder, ...] = ()
    cancel: tuple[str, ...] = ()
    ends: tuple[Ending, ...] = ()

    @property
    def people(self) -> list[uuid.UUID]:
        """Everyone it tells something, now or by a reminder."""
        return [o.recipient_id for o in (*self.occurrences, *(r.occurrence for r in self.schedule))]

    def without(self, nobody: set[uuid.UUID]) -> Intake:
        """This intake without what it tells people who have no account (there is no one to tell)."""
        if nobody.isdisjoint(self.people):
            return self
        return replace(
            self,
            occurrences=tuple(o for o in self.occurrences if o.recipient_id not in nobody),
            schedule=tuple(r for r in self.schedule if r.occurrence.recipient_id not in nobody),
        )


def gathered(occurrences: Iterable[Occurrence]) -> list[Reminder]:
    """The digests the occurrences join (those whose step was told already), one reminder per step: stored, they
    add these to what their step gathered before, and are told when the first of them is due."""
    digests: dict[str, Reminder] = {}
    for o in occurrences:
        if o.digest is None:
            continue
        first = digests.get(o.step_key)
        if first is None:
            joined = replace(o, step_key="", digest=None, gathered=(o.facts,))
            digests[o.step_key] = Reminder(key=o.step_key, due_at=o.digest.due_at, occurrence=joined)
        else:
            joined = replace(first.occurrence, gathered=(*first.occurrence.gathered, o.facts))
            digests[o.step_key] = replace(first, due_at=min(first.due_at, o.digest.due_at), occurrence=joined)
    return list(digests.values())


def reminder_step_key(subject: str, kind: Kind, due_at: datetime | None, step: int | str) -> str:
    """The name of one step of a reminder schedule: loans/{id}/overdue/2025-03-14T18:00:00+00:00/2. A new
    due date (a renewal) starts a new schedule."""
    due = due_at.isoformat() if due_at is not None else "-"
    return f"{subject}/{kind.value}/{due}/{step}"


def hold_expiry_reminder(
    ready: Occurrence, *, hold: str, expires_at: datetime, notice: timedelta, now: datetime
) -> tuple[Reminder, ...]:
    """Remind the patron `notice` before a ready hold's pickup deadline, if that moment is still ahead."""
    due_at = expires_at - notice
    if notice <= timedelta(0) or due_at <= now:
        return ()
    occurrence = Occurrence(
        event_id=uuid.uuid5(ready.event_id, Kind.HOLD_EXPIRING.value),
        occurred_at=due_at,
        kind=Kind.HOLD_EXPIRING,
        recipient_id=ready.recipient_id,
        facts=ready.facts,
        step_key=reminder_step_key(hold, Kind.HOLD_EXPIRING, expires_at, 1),
        book=ready.book,
        about=hold,
        stale_at=expires_at,
    )
    return (Reminder(key=hold, due_at=due_at, occurrence=occurrence),)
