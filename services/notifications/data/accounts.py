"""The users service over the mesh, asked for the accounts the projection does not hold (app/ports.Accounts).

GetUser, as a peer calling on its own behalf (the users API opens it to peers; the registry lets notifications
call users). A users service that cannot be reached is not asked again for a few seconds: every batch of events
about unknown recipients would otherwise wait on it, and those events are retried later anyway."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Collection

import grpc

from athenaeum.users.v1 import users_pb2, users_pb2_grpc
from services.notifications.domain.recipients import USER, AccountStatus, ChannelChoice, Recipient
from services.support.runtime.errors import DependencyUnavailable
from services.support.runtime.versioning import version_of
from services.support.runtime.wire import to_datetime

log = logging.getLogger("athenaeum.notifications.users")
AT_ONCE = 16
"""Accounts asked at the same time (a batch of events may name a hundred unknown ones after an upgrade)."""
SKIP_UNREACHABLE_SECONDS = 5.0

_STATUSES = {
    users_pb2.USER_STATUS_ACTIVE: AccountStatus.ACTIVE,
    users_pb2.USER_STATUS_BLOCKED: AccountStatus.BLOCKED,
    users_pb2.USER_STATUS_EXPIRED: AccountStatus.EXPIRED,
    users_pb2.USER_STATUS_DEACTIVATED: AccountStatus.DEACTIVATED,
}


class UsersAccounts:
    def __init__(self, channel: grpc.aio.Channel, *, timeout_seconds: float = 2.0) -> None:
        self._stub = users_pb2_grpc.UsersServiceStub(channel)
        self._timeout = timeout_seconds
        self._unreachable_until = 0.0
        self._at_once = asyncio.Semaphore(AT_ONCE)

    async def look_up(self, user_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, Recipient | None]:
        if self._unreachable_until > time.monotonic():
            raise _unavailable()
        wanted = list(user_ids)
        return dict(zip(wanted, await asyncio.gather(*(self._one(user_id) for user_id in wanted)), strict=True))

    async def _one(self, user_id: uuid.UUID) -> Recipient | None:
        async with self._at_once:
            try:
                user = await self._stub.GetUser(
                    users_pb2.GetUserRequest(name=USER.format(user_id)), timeout=self._timeout
                )
            except grpc.aio.AioRpcError as error:
                if error.code() == grpc.StatusCode.NOT_FOUND:
                    return None
                log.warning("could not ask the users service for users/%s: %s", user_id, error.code().name)
                self._unreachable_until = time.monotonic() + SKIP_UNREACHABLE_SECONDS
                raise _unavailable() from None
        return recipient_of(user)


def recipient_of(user: users_pb2.User) -> Recipient:
    """The account as the users service has it now: its version orders it among the events' (the etag), and
    its status counts from its last change."""
    prefs = user.notification_preferences
    return Recipient(
        user_id=USER.parse_id(user.name, field="user.name"),
        email=user.email,
        phone=user.phone,
        display_name=user.display_name,
        card_number=user.card_number,
        home_branch=user.home_branch,
        locale=user.locale,
        time_zone=user.time_zone,
        status=_STATUSES.get(user.status, AccountStatus.UNKNOWN),
        email_opt_in=prefs.email_opt_in,
        sms_opt_in=prefs.sms_opt_in,
        kinds={kind: ChannelChoice(c.email, c.sms) for kind, c in prefs.kinds.items()},
        version=version_of(user.etag),
        status_at=to_datetime(user.update_time),
    )


def _unavailable() -> DependencyUnavailable:
    return DependencyUnavailable(
        "the users service is unavailable; retry later", reason="USERS_UNAVAILABLE", retry_after=1.0
    )
