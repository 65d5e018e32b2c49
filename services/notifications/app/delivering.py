"""Delivery: claim what is due on a channel, hand each to the channel, record what it answered. Claims
are leases, so two processes never send the same notification, and a crashed one's claims come back.

Delivery is at least once, not exactly once: a process that dies after the mail server (or the SMS provider)
accepted a message and before its answer is recorded leaves the notification claimed and unsent, and the claim
comes back (at the restart, `release_claims`, or when its lease lapses), so the message goes out again (finding
C7; SMTP has no two-phase hand-off to close that window). Every try carries the same Message-ID and
X-Athenaeum-Event-Id (data/mime.py), so a receiving mail system can drop the copy, and an SMS the same
Idempotency-Key (data/sms.py), the notification's id, for the provider to do the same."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from services.notifications.app.notifying import Rules
from services.notifications.app.ports import NotificationsUnitOfWork
from services.notifications.domain.batches import MAX_BATCH, batches
from services.notifications.domain.delivery import Outcome
from services.notifications.domain.kinds import KINDS, Channel
from services.notifications.domain.notifications import Notification, Status
from services.notifications.domain.recipients import Recipient, Route, route_now
from services.notifications.domain.wording import zone_of
from services.support.runtime.clock import Clock

TOO_LATE = "too late: it would arrive after the moment it announces"


@dataclass(frozen=True, slots=True)
class ClaimDue:
    channel: Channel
    limit: int
    worker: str
    """Who holds the claims: the process's name, stable across its restarts."""
    lease: timedelta


@dataclass(frozen=True, slots=True)
class Attempt:
    """A claimed notification and what its channel answered (None: the channel was down, nothing tried)."""

    notification: Notification
    outcome: Outcome | None


async def claim_due(cmd: ClaimDue, *, uow: NotificationsUnitOfWork, clock: Clock, rules: Rules) -> list[Notification]:
    """Hold up to `limit` notifications due now on the channel, for `lease`, and with them the same readers'
    notices of a batched kind due within the batch window (they go out together: `batched`); those whose
    recipient has closed the account or opted out since they were queued are suppressed instead, and so are
    those that would arrive after the moment they announce; an SMS waits out the quiet hours of the
    recipient's zone as it is now (it may have changed since it was queued), and a routine one waits for a
    free slot under the hourly SMS limits (a batch is one SMS); the others go to their current address."""
    now = clock.now()
    async with uow:
        claimed = await uow.notifications.claim_due(
            cmd.channel, now=now, limit=cmd.limit, worker=cmd.worker, until=now + cmd.lease
        )
        claimed += await _siblings(claimed, cmd, uow=uow, now=now, rules=rules)
        recipients = await _recipients_of(claimed, uow=uow)
        for notification in claimed:
            person = recipients.get(notification.recipient_id)
            if _check(notification, person, now=now, rules=rules):
                await uow.notifications.save(notification)
        due_by = now + rules.batch_window
        limited = await _keep_to_sms_limits(batched(_due(claimed, due_by), rules), uow=uow, now=now, rules=rules)
        for notification in limited:
            await uow.notifications.save(notification)
        kept_back = {n.id for n in limited}
        held = [n.id for n in _queued(claimed) if n.next_attempt_at > due_by or n.id in kept_back]
        unsent = [n.id for n in claimed if n.status == Status.SUPPRESSED] + held
        if unsent:
            await uow.notifications.release(unsent, worker=cmd.worker)
        await uow.commit()
    return [n for n in claimed if n.status == Status.QUEUED and n.id not in held]


async def _siblings(
    claimed: list[Notification], cmd: ClaimDue, *, uow: NotificationsUnitOfWork, now: datetime, rules: Rules
) -> list[Notification]:
    """The notices that go out with those claimed: their readers' others of the same batched kind, due
    within the batch window (made since, waiting for it to end)."""
    pairs = {(n.recipient_id, n.kind) for n in claimed if KINDS[n.kind].batched}
    if not pairs or rules.batch_window <= timedelta(0):
        return []
    return await uow.notifications.claim_siblings(
        cmd.channel,
        pairs,
        now=now,
        due_by=now + rules.batch_window,
        limit=MAX_BATCH * len(pairs),
        worker=cmd.worker,
        until=now + cmd.lease,
    )


def batched(notifications: list[Notification], rules: Rules) -> list[list[Notification]]:
    """The claimed notifications as the messages they go out as: notices of one reader, kind and channel
    together when there is a batch window (domain/batches.py), else each alone."""
    if rules.batch_window <= timedelta(0):
        return [[n] for n in notifications]
    return batches(notifications)


def _check(notification: Notification, person: Recipient | None, *, now: datetime, rules: Rules) -> bool:
    """One claimed notification as things are now; returns whether it changed."""
    changed = person is not None and notification.reroute(_route(notification, person), now=now)
    if notification.stale(now):
        return notification.drop(TOO_LATE, now=now) or changed
    if notification.channel != Channel.SMS or notification.status != Status.QUEUED:
        return changed
    zone = zone_of(person.time_zone if person else notification.time_zone, rules.library_time_zone)
    until = rules.sms.not_before(now, zone)
    if until > now:
        notification.hold_back(until, time_zone=zone.key, now=now)
        return True
    return changed


def _queued(claimed: list[Notification]) -> list[Notification]:
    return [n for n in claimed if n.status == Status.QUEUED]


def _due(claimed: list[Notification], due_by: datetime) -> list[Notification]:
    return [n for n in _queued(claimed) if n.next_attempt_at <= due_by]


async def _keep_to_sms_limits(
    messages: list[list[Notification]], *, uow: NotificationsUnitOfWork, now: datetime, rules: Rules
) -> list[Notification]:
    """Routine SMS beyond the limits (per account, per number: SMS sent in the window, and those going now)
    wait for the next slot; urgent and security ones go regardless (and count). A batch is one SMS, held back
    or sent whole. Returns the notifications held back."""
    texts = sorted(
        (m for m in messages if m[0].channel == Channel.SMS), key=lambda m: not KINDS[m[0].kind].sms_unlimited
    )
    if not texts:
        return []
    sent = await uow.notifications.sms_sent_since(
        {m[0].recipient_id for m in texts}, {m[0].address for m in texts}, now - rules.sms.window
    )
    by_person, by_number = Counter(sent.by_recipient), Counter(sent.by_number)
    held: list[Notification] = []
    for members in texts:
        n = members[0]
        over = rules.sms.over_limit(by_person[n.recipient_id]) or rules.sms.over_limit(by_number[n.address])
        if over and not KINDS[n.kind].sms_unlimited:
            for member in members:
                member.hold_back(rules.sms.next_slot(now), time_zone=member.time_zone, now=now)
            held.extend(members)
            continue
        by_person[n.recipient_id] += 1
        by_number[n.address] += 1
    return held


async def _recipients_of(
    notifications: list[Notification], *, uow: NotificationsUnitOfWork
) -> Mapping[uuid.UUID, Recipient]:
    return await uow.recipients.get_many({n.recipient_id for n in notifications}) if notifications else {}


async def current_routes(notifications: list[Notification], *, uow: NotificationsUnitOfWork) -> dict[uuid.UUID, Route]:
    """The route each notification takes by its recipient as they are now (the account may have changed since
    it was queued: before a retry, during quiet hours or a backoff); none for a recipient not known here."""
    recipients = await _recipients_of(notifications, uow=uow)
    return {n.id: _route(n, person) for n in notifications if (person := recipients.get(n.recipient_id)) is not None}


def _route(n: Notification, person: Recipient) -> Route:
    """The route `n` takes by its recipient as they are now."""
    return route_now(person, n.kind, n.channel, by_system=n.by_system, queued_to=n.address)


async def record_attempts(
    attempts: list[Attempt], *, worker: str, uow: NotificationsUnitOfWork, clock: Clock, rules: Rules
) -> list[Notification]:
    """Store the outcomes of a group of attempts in one transaction (SENT and FAILED are announced); the
    claims of attempts never made are given back. Returns the notifications whose outcome was stored."""
    now = clock.now()
    recorded: list[Notification] = []
    untried: list[uuid.UUID] = []
    for attempt in attempts:
        notification = attempt.notification
        if attempt.outcome is None:
            untried.append(notification.id)
            continue
        zone = zone_of(notification.time_zone, rules.library_time_zone)
        not_before = rules.sms.not_before(now, zone) if notification.channel == Channel.SMS else now
        notification.record(attempt.outcome, now=now, policy=rules.retry, not_before=not_before)
        recorded.append(notification)
    async with uow:
        if recorded:
            await uow.notifications.save_outcomes(recorded, worker=worker)
        if untried:
            await uow.notifications.release(untried, worker=worker)
        await uow.commit()
    return recorded


async def extend_claims(
    notification_ids: list[uuid.UUID], *, worker: str, lease: timedelta, uow: NotificationsUnitOfWork, clock: Clock
) -> None:
    """Keeps the claims of sends still waiting for their answer (the end of an email may take 10 minutes):
    a claim that lapsed mid-send was taken again and the message sent a second time."""
    async with uow:
        await uow.notifications.extend_claims(notification_ids, worker=worker, until=clock.now() + lease)
        await uow.commit()


async def release_claims(worker: str, *, uow: NotificationsUnitOfWork) -> int:
    """At start: what this process held when it last stopped (or crashed) is free to claim again."""
    async with uow:
        released = await uow.notifications.release_claims_of(worker)
        await uow.commit()
    return released
