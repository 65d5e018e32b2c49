"""The local projection of accounts, kept from the users service's events (no call per notification)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from services.notifications.app.ports import NotificationsUnitOfWork
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
            await uow.commit()
    return current


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
