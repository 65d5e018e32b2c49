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
from datetime import datetime
from typing import Protocol

import grpc

from athenaeum.users.v1 import users_pb2, users_pb2_grpc
from services.notifications.domain.recipients import USER, Recipient
from services.support.runtime.errors import DependencyUnavailable
from services.support.runtime.wire import to_datetime

log = logging.getLogger("athenaeum.notifications.users")
AT_ONCE = 16
"""Accounts asked at the same time (a batch of events may name a hundred unknown ones after an upgrade)."""
SKIP_UNREACHABLE_SECONDS = 5.0


class ReadsAccount(Protocol):
    """The reading of a users service's account (api/decoding_users.recipient_of, given by main.py: the
    users' wire format is read in one place, for their events and for this peer alike)."""

    def __call__(self, user: users_pb2.User, *, status_at: datetime) -> Recipient: ...


class UsersAccounts:
    def __init__(self, channel: grpc.aio.Channel, *, read: ReadsAccount, timeout_seconds: float = 2.0) -> None:
        self._read = read
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
        # Its status holds at least since the account last changed: its update_time, on the clock of the
        # status events that may arrive after this answer (the older of them then change nothing).
        return self._read(user, status_at=to_datetime(user.update_time))


def _unavailable() -> DependencyUnavailable:
    return DependencyUnavailable(
        "the users service is unavailable; retry later", reason="USERS_UNAVAILABLE", retry_after=1.0
    )
