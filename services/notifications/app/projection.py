"""The local projection of accounts, kept from the users service's events (no call per notification)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from services.notifications.app.ports import NotificationsUnitOfWork
from services.notifications.domain.kinds import Channel
from services.notifications.domain.recipients import AccountStatus, Recipient


@dataclass(frozen=True, slots=True)
class ProfileSeen:
    """An event carried the whole account (registered or updated)."""

    recipient: Recipient


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
