"""Who receives notifications: the local projection of an account, kept from the users service's events,
and the rule that picks the channels (and addresses) of one kind of notification for one recipient. Pure."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum

from services.notifications.domain.kinds import KINDS, Channel, Kind
from services.support.runtime.names import NamePattern

USER = NamePattern("users/{user}")
E164 = re.compile(r"^\+[1-9]\d{6,14}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class AccountStatus(StrEnum):
    ACTIVE = "active"
    BLOCKED = "blocked"
    EXPIRED = "expired"
    DEACTIVATED = "deactivated"
    UNKNOWN = "unknown"


_NO_NEWS = frozenset({AccountStatus.BLOCKED, AccountStatus.DEACTIVATED})


@dataclass(frozen=True, slots=True)
class ChannelChoice:
    email: bool
    sms: bool


@dataclass(frozen=True, slots=True)
class Recipient:
    """What notifications know of one account. `version` orders profile changes; `status_at` orders status
    changes (they arrive on their own events, possibly out of order with the profile's)."""

    user_id: uuid.UUID
    email: str = ""
    phone: str = ""
    display_name: str = ""
    card_number: str = ""
    home_branch: str = ""
    locale: str = ""
    time_zone: str = ""
    status: AccountStatus = AccountStatus.UNKNOWN
    email_opt_in: bool = True
    sms_opt_in: bool = False
    kinds: dict[str, ChannelChoice] = field(default_factory=dict)
    version: int = 0
    status_at: datetime | None = None

    @property
    def name(self) -> str:
        return USER.format(self.user_id)

    @property
    def profiled(self) -> bool:
        """Whether an account's profile (its addresses, preferences) was seen: a status change of an account
        whose events before it were not (the stream keeps a month) makes a record without one."""
        return self.version > 0

    def with_profile(self, newer: Recipient) -> Recipient:
        """This recipient after a profile event: its fields if the event is newer; the status only if the
        event is newer than the last status change."""
        updated = self
        if newer.version > self.version:
            updated = replace(newer, status=self.status, status_at=self.status_at)
        return updated.with_status(newer.status, at=newer.status_at)

    def with_status(self, status: AccountStatus, *, at: datetime | None) -> Recipient:
        if at is None or (self.status_at is not None and at < self.status_at):
            return self
        return replace(self, status=status, status_at=at)

    def wants(self, kind: Kind, channel: Channel, *, by_system: bool = True) -> bool:
        """The patron's choice: the channel's switch, then the kind's own choice (or its default). A security
        notice goes by email whatever they chose, but only one the system sends: staff cannot override it."""
        spec = KINDS[kind]
        if channel not in spec.channels:
            return False
        if spec.security and channel == Channel.EMAIL and by_system:
            return True
        if not (self.email_opt_in if channel == Channel.EMAIL else self.sms_opt_in):
            return False
        choice = self.kinds.get(kind.value)
        if choice is None:
            return spec.wanted_by_default
        return choice.email if channel == Channel.EMAIL else choice.sms


@dataclass(frozen=True, slots=True)
class Route:
    """One channel a notification goes out on: to `address`, or not at all (`suppress_reason`)."""

    channel: Channel
    address: str
    suppress_reason: str = ""


def routes(recipient: Recipient, kind: Kind, *, channels: tuple[Channel, ...] = tuple(Channel)) -> list[Route]:
    """The channels of `channels` this recipient wants `kind` on. A wanted channel that cannot be used is
    kept, suppressed with the reason, so staff can see why nothing went out; an unwanted one is left out.
    An announcement (news the reader asked for) goes to no blocked or closed account at all."""
    if KINDS[kind].announcement and recipient.status in _NO_NEWS:
        return []
    if recipient.status == AccountStatus.DEACTIVATED:
        wanted = [channel for channel in channels if recipient.wants(kind, channel)]
        return [Route(channel, "", "the account is closed") for channel in wanted]
    found: list[Route] = []
    for channel in channels:
        if not recipient.wants(kind, channel):
            continue
        address, problem = address_for(recipient, channel)
        found.append(Route(channel, address, problem))
    return found


def route_now(recipient: Recipient, kind: Kind, channel: Channel, *, by_system: bool, queued_to: str = "") -> Route:
    """The route a notification queued earlier takes now, by the recipient as they are now: suppressed when
    the account is closed or they no longer want it there, else to their current address. A notice of a
    change of address keeps the address it was queued to (`queued_to`): the account's is the new one."""
    if KINDS[kind].to_former_address:
        return Route(channel, queued_to)
    if recipient.status == AccountStatus.DEACTIVATED:
        return Route(channel, "", "the account is closed")
    if KINDS[kind].announcement and recipient.status == AccountStatus.BLOCKED:
        return Route(channel, "", "the account is blocked")
    if not recipient.wants(kind, channel, by_system=by_system):
        return Route(channel, "", f"the user does not accept {kind} by {channel}")
    address, problem = address_for(recipient, channel)
    return Route(channel, address, problem)


def address_for(recipient: Recipient, channel: Channel) -> tuple[str, str]:
    """(address, "") or ("", why there is none to use)."""
    if channel == Channel.EMAIL:
        if not recipient.email:
            return "", "no email address"
        if not EMAIL.match(recipient.email):
            return "", "the email address is not valid"
        return recipient.email, ""
    if not recipient.phone:
        return "", "no phone number"
    if not E164.match(recipient.phone):
        return "", "the phone number is not a valid E.164 number"
    return recipient.phone, ""
