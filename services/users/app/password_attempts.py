"""Password attempts, counted against the sign-in throttles: the sign-in's own, and a signed-in user's
confirmation of their password before a sensitive change (domain/throttling.py: growing delays, never a
lock on the account). Both count on the account's throttle from that client and on the client's.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from services.support.runtime.clock import Clock
from services.support.runtime.errors import InvalidArgument, PermissionDenied, Throttled
from services.users.app.ports import Passwords, UsersUnitOfWork
from services.users.domain.accounts import USER
from services.users.domain.throttling import Caller, SignInThrottle, SignInThrottling, account_key, client_key

UNKNOWN_CLIENT = "unknown"
"""The client of a sign-in that did not come through the edge (all such calls share one throttle)."""


@dataclass(frozen=True, slots=True)
class ConfirmPassword:
    user_id: uuid.UUID
    password: str
    client: str = ""
    field: str = "current_password"


async def confirm_password(
    cmd: ConfirmPassword, *, uow: UsersUnitOfWork, clock: Clock, passwords: Passwords, throttling: SignInThrottling
) -> None:
    """Check a signed-in user's own password before a sensitive change: wrong ones count towards the same
    throttles as sign-ins (a stolen session cannot guess its way into the account's email)."""
    if not cmd.password:
        raise InvalidArgument.field(cmd.field, "is required for this change")
    client, now = cmd.client or UNKNOWN_CLIENT, clock.now()
    account = USER.format(cmd.user_id)
    caller = Caller(account, client)
    async with uow:
        user = await uow.users.get(cmd.user_id)
        email = user.profile.email
        refused = await count_attempt(uow, email, caller, account, now=now, throttling=throttling)
        await uow.commit()
    verified = await passwords.verify(user.password_hash, cmd.password)
    async with uow:
        for_account, by_client = await attempt_throttles(uow, email, client)
        if not verified:
            for_account.record_failure(
                email, "wrong_password", now=now, caller=caller, account=account, refused=refused
            )
            await uow.commit()
            raise PermissionDenied("the current password is wrong", reason="WRONG_PASSWORD")
        for_account.forgive()
        by_client.give_back()
        await save_throttles(uow, for_account, by_client)
        await uow.commit()


async def count_attempt(
    uow: UsersUnitOfWork, email: str, caller: Caller, account: str, *, now: datetime, throttling: SignInThrottling
) -> int:
    """Count the attempt on both throttles; returns the attempts refused on the account's before it. An
    attempt a throttle refuses is recorded (committed) before it is refused: the trail shows the throttling."""
    for_account, by_client = await attempt_throttles(uow, email, caller.address)
    for throttle, policy in ((for_account, throttling.account_from_client), (by_client, throttling.client)):
        try:
            throttle.ensure_open(now, policy)
        except Throttled:
            throttle.record_refusal(email, now=now, caller=caller, account=account)
            await save_throttles(uow, throttle)
            await uow.commit()
            raise
    refused = for_account.begin_attempt(now=now, policy=throttling.account_from_client)
    by_client.begin_attempt(now=now, policy=throttling.client)
    await save_throttles(uow, for_account, by_client)
    return refused


async def attempt_throttles(uow: UsersUnitOfWork, email: str, client: str) -> tuple[SignInThrottle, SignInThrottle]:
    """The account's throttle from this client and the client's, locked in one order (no deadlock)."""
    by_client = await uow.throttles.get(client_key(client))
    for_account = await uow.throttles.get(account_key(email, client))
    return for_account, by_client


async def save_throttles(uow: UsersUnitOfWork, *throttles: SignInThrottle) -> None:
    for throttle in throttles:
        await uow.throttles.save(throttle)
