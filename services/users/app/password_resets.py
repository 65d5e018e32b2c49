"""Forgotten passwords: a reset link by email, and a new password set with it.

No account enumeration: RequestPasswordReset answers the same for any address (an account, a closed one, none,
one asked for a minute ago), and no sooner than `answer_floor` seconds, so the few milliseconds of storing a
reset do not tell either. The edge's per-address limit on public mutations bounds how often anyone may ask;
a second mail to one account within `ResetPolicy.resend_after` is not sent (nobody fills a mailbox).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

from services.support.runtime.clock import Clock
from services.support.runtime.conflicts import CONCURRENT_UPDATE
from services.support.runtime.errors import Conflict, InvalidArgument
from services.support.runtime.identity import ANONYMOUS
from services.users.app.ports import Passwords, UsersUnitOfWork
from services.users.domain.password_resets import (
    PasswordReset,
    ResetPolicy,
    ResetTokenInvalid,
    ensure_valid,
    may_reset,
    may_send_again,
)
from services.users.domain.sessions import token_digest
from services.users.domain.validation import password_violation


@dataclass(frozen=True, slots=True)
class RequestPasswordReset:
    email: str = field(repr=False)
    requested_by: str = ANONYMOUS
    """The signed-in caller's name, else "anonymous" (not the account: anyone may ask)."""
    client: str = ""
    """The address the edge saw the request come from."""


@dataclass(frozen=True, slots=True)
class ResetPassword:
    token: str = field(repr=False)
    new_password: str = field(repr=False)


async def request_password_reset(
    cmd: RequestPasswordReset, *, uow: UsersUnitOfWork, clock: Clock, policy: ResetPolicy, answer_floor: float = 0.0
) -> None:
    """Mail a reset link to the account with this email, if there is one that may have it; answer the same
    either way, after `answer_floor` seconds at least."""
    started = time.monotonic()
    email = cmd.email.strip().lower()
    if not email:
        raise InvalidArgument.field("email", "is required")
    try:
        await _start_reset(email, cmd, uow=uow, clock=clock, policy=policy)
    finally:
        await asyncio.sleep(max(0.0, answer_floor - (time.monotonic() - started)))


async def _start_reset(
    email: str, cmd: RequestPasswordReset, *, uow: UsersUnitOfWork, clock: Clock, policy: ResetPolicy
) -> None:
    now = clock.now()
    async with uow:
        user = await uow.users.find_by_email(email)
        if user is None or not may_reset(user):
            return
        if not may_send_again(await uow.resets.of_user(user.id), now=now, policy=policy):
            return
        reset = PasswordReset.start(user, now=now, policy=policy, requested_by=cmd.requested_by, client=cmd.client)
        await uow.resets.replace(reset)
        await uow.commit()


async def reset_password(cmd: ResetPassword, *, uow: UsersUnitOfWork, clock: Clock, passwords: Passwords) -> None:
    """Spend a reset token for a new password: every session of the account ends, the owner is told.

    The argon2 work runs between two transactions (as at sign-in); the second checks the token again, so
    of two uses at once only one sets a password."""
    if not cmd.token:
        raise InvalidArgument.field("token", "is required")
    if not cmd.new_password:
        raise InvalidArgument.field("new_password", "is required")
    digest = token_digest(cmd.token)
    async with uow:
        reset = ensure_valid(await uow.resets.find(digest), cmd.token, now=clock.now())
        user = await uow.users.get(reset.user_id)
    if not may_reset(user):
        raise ResetTokenInvalid()
    if problem := password_violation(cmd.new_password, user.profile.email, field="new_password"):
        raise InvalidArgument(problem)
    new_hash = await passwords.hash(cmd.new_password)
    now = clock.now()
    async with uow:
        reset = ensure_valid(await uow.resets.find(digest), cmd.token, now=now)
        user = await uow.users.get(reset.user_id)
        if not may_reset(user):
            raise ResetTokenInvalid()
        if not await uow.users.replace_password_hash(user.id, previous=user.password_hash, new=new_hash):
            raise Conflict("the password was changed meanwhile; try again", reason=CONCURRENT_UPDATE)
        await uow.resets.remove(user.id)
        user.record_password_reset(now=now)
        for session in await uow.sessions.active_of(user.id):
            session.revoke("password_changed", now=now)
            await uow.sessions.save(session)
        await uow.commit()
    # Answered once the other services can know the sessions ended (or the wait for the bus gave up: the token
    # is spent, so there is no retry to ask for), as a password change is.
    await uow.announced()
