"""Taking events in: each occurrence becomes zero or more notifications (by the recipient's preferences),
worded from the templates in the recipient's language and time zone, queued for delivery; reminders are
scheduled and cancelled. One transaction for a whole batch of events."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from services.notifications.app import projection
from services.notifications.app.ports import (
    Accounts,
    Catalog,
    NotificationsUnitOfWork,
    TemplateRenderer,
    TemplateRepository,
)
from services.notifications.app.words import word
from services.notifications.domain.delivery import RetryPolicy, SmsPolicy
from services.notifications.domain.kinds import KINDS, Channel, Kind
from services.notifications.domain.notifications import Content, Notification
from services.notifications.domain.occurrences import Intake, Occurrence, gathered
from services.notifications.domain.recipients import Recipient, Route, routes
from services.notifications.domain.templates import Template
from services.notifications.domain.wording import locale_of, on_one_line, words, zone_of
from services.support.runtime.clock import Clock


@dataclass(frozen=True, slots=True)
class Rules:
    """The library's delivery settings, built once from the service's settings."""

    retry: RetryPolicy = field(default_factory=RetryPolicy)
    sms: SmsPolicy = field(default_factory=SmsPolicy)
    library_name: str = "Athenaeum"
    default_locale: str = "en"
    library_time_zone: str = "UTC"
    """For recipients who chose no time zone: their dates and SMS quiet hours are the library's."""
    hold_expiry_notice: timedelta = timedelta(hours=24)
    web_url: str = "http://localhost:8080"
    """The web client's public address, for links in messages (a password reset's)."""
    batch_window: timedelta = timedelta(0)
    """A notice of a batched kind waits this long, and takes the same reader's notices of its kind and channel
    made meanwhile into one message (domain/batches.py); zero: every notice is a message of its own."""


@dataclass(slots=True)
class TakenIn:
    queued: list[Notification] = field(default_factory=list)
    """Every notification stored (QUEUED or SUPPRESSED)."""
    waiting: set[uuid.UUID] = field(default_factory=set)
    """Events left for later: their recipient is not known here yet (the users event is on its way)."""
    no_account: set[uuid.UUID] = field(default_factory=set)
    """Events about someone the users service has no account of: nobody to tell, not waited for."""
    told_before: int = 0
    """Reminder steps skipped because they were told already."""


async def take_in(
    intakes: Sequence[Intake],
    *,
    uow: NotificationsUnitOfWork,
    clock: Clock,
    renderer: TemplateRenderer,
    catalog: Catalog,
    rules: Rules,
    accounts: Accounts | None = None,
) -> TakenIn:
    """Turn a batch of events into notifications, in one transaction; none for a batch that changes nothing
    (most loan events tell nobody anything: a loan issued to a patron who wants no receipt). A recipient the
    projection does not hold is asked of `accounts` first (and kept)."""
    titles: dict[str, str] = {}
    titled = [await with_titles(intake, catalog, titles) for intake in intakes]
    async with uow.reading():
        recipients = await _recipients(titled, uow)
    nobody: set[uuid.UUID] = set()
    if accounts is not None and (asked := projection.unknown(_wanted(titled), recipients)):
        async with uow:
            recipients, nobody = await projection.fill_in(recipients, asked, accounts=accounts, uow=uow)
            await uow.commit()
    no_account = {intake.event_id for intake in titled if nobody.intersection(intake.people)}
    titled = [intake.without(nobody) for intake in titled]
    if not _changes_anything(titled, recipients):
        waiting = {intake.event_id for intake in titled if not _known(intake, recipients)}
        return TakenIn(waiting=waiting, no_account=no_account)
    async with uow:
        taken = await tell(titled, uow=uow, now=clock.now(), renderer=renderer, rules=rules, recipients=recipients)
        await uow.commit()
    taken.no_account = no_account
    return taken


async def with_titles(intake: Intake, catalog: Catalog, known: dict[str, str] | None = None) -> Intake:
    """Occurrences about a book whose event carried no title get it from the catalog (each book asked once)."""
    titles = {} if known is None else known

    async def titled(occurrence: Occurrence) -> Occurrence:
        if not occurrence.book or occurrence.facts.get("book_title"):
            return occurrence
        if occurrence.book not in titles:
            titles[occurrence.book] = await catalog.book_title(occurrence.book)
        return replace(occurrence, facts={**occurrence.facts, "book_title": titles[occurrence.book]})

    occurrences = tuple([await titled(o) for o in intake.occurrences])
    schedule = tuple([replace(r, occurrence=await titled(r.occurrence)) for r in intake.schedule])
    return replace(intake, occurrences=occurrences, schedule=schedule)


async def tell(
    intakes: Sequence[Intake],
    *,
    uow: NotificationsUnitOfWork,
    now: datetime,
    renderer: TemplateRenderer,
    rules: Rules,
    recipients: Mapping[uuid.UUID, Recipient] | None = None,
) -> TakenIn:
    """The work of take_in inside a transaction the caller commits (the recipients read here unless given)."""
    taken = TakenIn()
    if recipients is None:
        recipients = await _recipients(intakes, uow)
    ready: list[Intake] = []
    for intake in intakes:
        if _known(intake, recipients):
            ready.append(intake)
        else:
            taken.waiting.add(intake.event_id)
    await _keep_reminders(ready, uow)
    occurrences = await _not_told_before(ready, uow, taken)
    plans = [(o, person, found) for o in occurrences if (found := routes(person := _told(o, recipients), o.kind))]
    if plans:  # most events tell nobody anything (a loan issued to a patron who wants no receipt)
        writer = _Writer(await uow.templates.current(), uow.templates, renderer, rules, now)
        notifications = [writer.compose(o, person, route) for o, person, found in plans for route in found]
        taken.queued = await uow.notifications.add_many(notifications)
    await _drop_what_ended(ready, uow, now)  # after adding: a reminder told in this batch may end in it too
    return taken


async def _drop_what_ended(ready: Sequence[Intake], uow: NotificationsUnitOfWork, now: datetime) -> None:
    """Notifications still waiting (quiet hours, a backoff) about a loan or hold that ended since they were
    caused are not sent: "due soon" for a returned loan, "ready" for a collected hold."""
    ends = [ending for intake in ready for ending in intake.ends]
    if not ends:
        return
    for notification in await uow.notifications.queued_about({ending.about for ending in ends}):
        ending = next((e for e in ends if notification.ended_by(e)), None)
        if ending is not None and notification.drop(ending.reason, now=now):
            await uow.notifications.save(notification)


def _wanted(intakes: Sequence[Intake]) -> set[uuid.UUID]:
    return {person for intake in intakes for person in intake.people}


async def _recipients(intakes: Sequence[Intake], uow: NotificationsUnitOfWork) -> dict[uuid.UUID, Recipient]:
    wanted = _wanted(intakes)
    return await uow.recipients.get_many(wanted) if wanted else {}


def _known(intake: Intake, recipients: Mapping[uuid.UUID, Recipient]) -> bool:
    """Everyone the intake is about is known here (else it waits for their users event)."""
    return all(person in recipients for person in intake.people)


def _told(occurrence: Occurrence, recipients: Mapping[uuid.UUID, Recipient]) -> Recipient:
    """The account told, as it was before the change the occurrence tells of (its old address), else as it is."""
    return occurrence.as_was or recipients[occurrence.recipient_id]


def _changes_anything(intakes: Sequence[Intake], recipients: Mapping[uuid.UUID, Recipient]) -> bool:
    """Whether telling these intakes writes anything: a reminder scheduled or cancelled, a waiting notification
    dropped, a schedule step claimed, or a notification for someone who wants to hear of it."""
    return any(
        intake.cancel
        or intake.ends
        or intake.schedule
        or any(o.step_key or routes(_told(o, recipients), o.kind) for o in intake.occurrences)
        for intake in intakes
        if _known(intake, recipients)
    )


async def _keep_reminders(ready: Sequence[Intake], uow: NotificationsUnitOfWork) -> None:
    if cancelled := [key for intake in ready for key in intake.cancel]:
        await uow.reminders.cancel(cancelled)
    if scheduled := [reminder for intake in ready for reminder in intake.schedule]:
        await uow.reminders.schedule(scheduled)


async def _not_told_before(ready: Sequence[Intake], uow: NotificationsUnitOfWork, taken: TakenIn) -> list[Occurrence]:
    """Each step told once: an occurrence whose step was told already is dropped, or gathered into its step's
    digest when it has one (a later book of the hour by a followed author), each item once."""
    occurrences = [o for intake in ready for o in intake.occurrences]
    keys = [key for o in occurrences for key in (o.step_key, o.digest.item_key if o.digest else "") if key]
    fresh = await uow.step_keys.claim(keys) if keys else set()
    kept, later = [], []
    for occurrence in occurrences:
        item, key = occurrence.digest.item_key if occurrence.digest else "", occurrence.step_key
        if (item and item not in fresh) or (key and key not in fresh and not item):
            taken.told_before += 1  # a key used once in this batch is no longer fresh for the next
        elif key and key not in fresh:
            later.append(occurrence)
        else:
            kept.append(occurrence)
        fresh.difference_update((item, key))
    if digests := gathered(later):
        await uow.reminders.gather(digests)
    return kept


@dataclass
class _Writer:
    """Words and queues notifications for one batch (templates read once). The SMS limit is kept when they go
    out (delivering.claim_due), by what was sent: one queued for the morning has not been sent yet."""

    templates: Mapping[str, Template]
    store: TemplateRepository
    renderer: TemplateRenderer
    rules: Rules
    now: datetime

    def compose(self, occurrence: Occurrence, recipient: Recipient, route: Route) -> Notification:
        locale = locale_of(recipient.locale, self.rules.default_locale)
        zone = zone_of(recipient.time_zone, self.rules.library_time_zone)
        params = self.variables(occurrence, recipient, locale, zone)
        content = self.word(occurrence.kind, route.channel, locale, params)
        suppress, not_before = route.suppress_reason, self.now
        if KINDS[occurrence.kind].batched and not suppress:
            not_before += self.rules.batch_window  # the reader's next renewals, at the desk or online, join it
        if route.channel == Channel.SMS and not suppress:
            not_before = max(not_before, self.rules.sms.not_before(self.now, zone))
        return Notification.queue(
            recipient_id=recipient.user_id,
            channel=route.channel,
            address=route.address,
            kind=occurrence.kind,
            content=content,
            params=params,
            now=self.now,
            not_before=not_before,
            policy=self.rules.retry,
            source_event_id=occurrence.event_id,
            event_at=occurrence.occurred_at,
            trace=dict(occurrence.trace),
            suppress_reason=suppress,
            time_zone=zone.key,
            about=occurrence.about,
            stale_at=occurrence.stale_at,
        )

    def variables(self, occurrence: Occurrence, recipient: Recipient, locale: str, zone: ZoneInfo) -> dict[str, str]:
        offered = KINDS[occurrence.kind].variables
        facts = {name: value for name, value in occurrence.facts.items() if name in offered}
        given = {"display_name": recipient.display_name, "library_name": self.rules.library_name}
        if "web_url" in offered:
            given["web_url"] = self.rules.web_url
        if "branch" in offered and not facts.get("branch"):
            facts["branch"] = recipient.home_branch  # no branch named by the event: the patron's own
        return on_one_line({name: "" for name in offered} | given | words(facts, locale=locale, zone=zone))

    def word(self, kind: Kind, channel: Channel, locale: str, params: Mapping[str, str]) -> Content:
        return word(
            kind,
            channel,
            locale,
            params,
            templates=self.templates,
            store=self.store,
            renderer=self.renderer,
            max_segments=self.rules.sms.max_segments,
        )
