"""The local projection of accounts, kept from the users service's events (no call per notification); an
account it does not hold is asked of the users service and kept (the stream keeps a month of events: an older
account is not in it after an upgrade, or once the projection was emptied or lost)."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from services.notifications.app.ports import Accounts, NotificationsUnitOfWork
from services.notifications.domain.address_changes import address_changes
from services.notifications.domain.follows import digests_of
from services.notifications.domain.kinds import Channel
from services.notifications.domain.occurrences import Intake
from services.notifications.domain.recipients import AccountStatus, Recipient
from services.support.runtime.errors import DependencyUnavailable, FailedPrecondition


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
            await _forget_follows_if_closed(current, uow=uow)
            await uow.commit()
    return current


async def _forget_follows_if_closed(recipient: Recipient, *, uow: NotificationsUnitOfWork) -> None:
    """A closed account follows nobody: nothing more is announced to it, and its reading tastes are not kept."""
    if recipient.status == AccountStatus.DEACTIVATED:
        await uow.follows.drop_all_of(recipient.user_id)
        await uow.reminders.cancel_under(digests_of(recipient.user_id))


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
            await _forget_follows_if_closed(current, uow=uow)
            await uow.commit()


async def projection_is_empty(*, uow: NotificationsUnitOfWork) -> bool:
    async with uow:
        return await uow.recipients.count() == 0


@dataclass(frozen=True, slots=True)
class Learned:
    """What the users service said of accounts the projection did not hold."""

    recipients: dict[uuid.UUID, Recipient] = field(default_factory=dict)
    """The accounts it has, as the projection holds them now."""
    nobody: set[uuid.UUID] = field(default_factory=set)
    """Those it has no account of: nothing is told to them (there is no one to tell)."""


def unknown(user_ids: Collection[uuid.UUID], recipients: Mapping[uuid.UUID, Recipient]) -> set[uuid.UUID]:
    """The accounts among `user_ids` the projection holds no profile of."""
    return {user_id for user_id in user_ids if not ((held := recipients.get(user_id)) and held.profiled)}


async def learn(user_ids: Collection[uuid.UUID], *, accounts: Accounts, uow: NotificationsUnitOfWork) -> Learned:
    """Ask the users service for these accounts and keep its answers, in the caller's transaction. An event
    may have brought a newer version meanwhile: each is kept as `apply_profile` would (the newer profile, the
    later status), under a lock, so an answer older than a stored event never overwrites it. Raises
    DependencyUnavailable when the users service cannot be asked."""
    answers = await accounts.look_up(user_ids)
    found = {user_id: person for user_id, person in answers.items() if person is not None}
    held = await uow.recipients.get_many(found, lock=True) if found else {}
    kept: dict[uuid.UUID, Recipient] = {}
    for user_id, person in found.items():
        stored = held.get(user_id)
        current = stored.with_profile(person) if stored else person
        if stored is None and not await uow.recipients.add(person):  # an event brought it just now: it stands
            current = (await uow.recipients.get_many([user_id], lock=True))[user_id]
        elif stored is not None and current != stored:
            await uow.recipients.save(current)
        kept[user_id] = current
    return Learned(kept, {user_id for user_id, person in answers.items() if person is None})


async def account_of(user_id: uuid.UUID, *, uow: NotificationsUnitOfWork, accounts: Accounts | None) -> Recipient:
    """The account as the projection holds it; one it does not hold is asked of `accounts` and kept
    (DependencyUnavailable when the users service cannot be asked). UNKNOWN_RECIPIENT when nobody has it."""
    held = await uow.recipients.get_many([user_id])
    if accounts is not None and unknown([user_id], held):
        learned = await learn([user_id], accounts=accounts, uow=uow)
        held = {**held, **learned.recipients}
        if user_id in learned.nobody:
            held.pop(user_id, None)
    if user_id not in held:
        raise FailedPrecondition(f"users/{user_id} is not known here", reason="UNKNOWN_RECIPIENT")
    return held[user_id]


async def fill_in(
    recipients: Mapping[uuid.UUID, Recipient],
    asked: Collection[uuid.UUID],
    *,
    accounts: Accounts,
    uow: NotificationsUnitOfWork,
) -> tuple[dict[uuid.UUID, Recipient], set[uuid.UUID]]:
    """`recipients` with the accounts `asked` learned (`learn`, in the caller's transaction), and those the users
    service has no account of. A users service that cannot be asked adds nothing: the events about them wait,
    as for a users event on its way."""
    try:
        learned = await learn(asked, accounts=accounts, uow=uow)
    except DependencyUnavailable:
        return dict(recipients), set()
    return {**recipients, **learned.recipients}, learned.nobody
