"""The local projection of accounts, kept from the users service's events (no call per notification)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from services.notifications.app.ports import NotificationsUnitOfWork
from services.notifications.domain.address_changes import address_changes
from services.notifications.domain.kinds import Channel
from services.notifications.domain.occurrences import Intake
from services.notifications.domain.recipients import AccountStatus, Recipient


@dataclass(frozen=True, slots=True)
class ProfileSeen:
    """An event carried the whole account (registered or updated)."""

    recipient: Recipient
    updated_by: uuid.UUID | None = None
    """The id of the update event that carried it: a change of address in it is told (None: a registration)."""
    trace: Mapping[str, str] = field(default_factory=dict)


async def address_notices(cmd: ProfileSeen, *, uow: NotificationsUnitOfWork) -> Intake | None:
    """The notices an update of the account's email or phone asks for, to the addresses the projection still
    holds: read before the update is applied to it (a redelivered event, the update not applied yet, asks
    again: their event ids keep them once)."""
    at = cmd.recipient.status_at  # the event's time
    if cmd.updated_by is None or at is None:
        return None
    async with uow.reading():
        stored = (await uow.recipients.get_many([cmd.recipient.user_id])).get(cmd.recipient.user_id)
    if stored is None:
        return None
    told = address_changes(stored, cmd.recipient, event_id=cmd.updated_by, at=at, trace=cmd.trace)
    return Intake(cmd.updated_by, occurrences=told) if told else None


@dataclass(frozen=True, slots=True)
class StatusSeen:
    user_id: uuid.UUID
    status: AccountStatus
    at: datetime


async def apply_profile(cmd: ProfileSeen, *, uow: NotificationsUnitOfWork) -> Recipient:
    """Keep the newer of what is stored and what the event says (events may arrive out of order)."""
    async with uow:
        stored = (await uow.recipients.get_many([cmd.recipient.user_id])).get(cmd.recipient.user_id)
        current = stored.with_profile(cmd.recipient) if stored else cmd.recipient
        if current != stored:
            await uow.recipients.save(current)
            if stored is not None and current.time_zone != stored.time_zone:
                await _follow_zone(current, uow=uow)
            await uow.commit()
    return current


async def _follow_zone(recipient: Recipient, *, uow: NotificationsUnitOfWork) -> None:
    """Their SMS held back for the quiet hours of the zone they left wait for those of the new one instead."""
    for notification in await uow.notifications.queued_of(recipient.user_id, Channel.SMS):
        now = recipient.status_at or notification.updated_at  # when the event changed the zone
        if notification.follow_zone(recipient.time_zone, now=now):
            await uow.notifications.save(notification)


async def apply_status(cmd: StatusSeen, *, uow: NotificationsUnitOfWork) -> None:
    async with uow:
        stored = (await uow.recipients.get_many([cmd.user_id])).get(cmd.user_id) or Recipient(cmd.user_id)
        current = stored.with_status(cmd.status, at=cmd.at)
        if current != stored:
            await uow.recipients.save(current)
            await uow.commit()


async def projection_is_empty(*, uow: NotificationsUnitOfWork) -> bool:
    async with uow:
        return await uow.recipients.count() == 0
