"""A signed-in user changes their own password: the current one proves it is them, the new one replaces it,
and every other session of the account ends (a thief holding one is out). PasswordChanged tells the owner."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from services.support.runtime.clock import Clock
from services.support.runtime.errors import Conflict, InvalidArgument, PermissionDenied, Unauthenticated
from services.users.app.ports import Passwords, UsersUnitOfWork
from services.users.domain.accounts import Actor
from services.users.domain.throttling import ThrottlePolicy
from services.users.domain.validation import password_violation

WRONG_PASSWORD = "the current password is wrong"


@dataclass(frozen=True, slots=True)
class ChangePassword:
    user_id: uuid.UUID
    current_password: str
    new_password: str
    actor: Actor
    session_id: str
    """The caller's session, which stays signed in."""


async def change_password(
    cmd: ChangePassword, *, uow: UsersUnitOfWork, clock: Clock, passwords: Passwords, throttle: ThrottlePolicy
) -> None:
    """Check the current password (throttled like sign-ins), store the new hash, end the other sessions."""
    if not cmd.current_password:
        raise InvalidArgument.field("current_password", "is required")
    now = clock.now()
    async with uow:
        user = await uow.users.get(cmd.user_id)
        if cmd.actor.name != user.name:
            raise PermissionDenied("only the owner changes a password", reason="NOT_OWN_ACCOUNT")
        if problem := password_violation(cmd.new_password, user.profile.email, field="new_password"):
            raise InvalidArgument(problem)
        attempts = await uow.throttles.get(user.profile.email)
        attempts.begin_attempt(now=now, policy=throttle)  # a stolen access token must not brute-force it
        await uow.throttles.save(attempts)
        await uow.commit()
    previous = user.password_hash
    if not await passwords.verify(previous, cmd.current_password):
        raise Unauthenticated(WRONG_PASSWORD, reason="WRONG_PASSWORD")
    new_hash = await passwords.hash(cmd.new_password)
    async with uow:
        attempts = await uow.throttles.get(user.profile.email)
        attempts.record_success()
        await uow.throttles.save(attempts)
        user = await uow.users.get(cmd.user_id)
        if not await uow.users.replace_password_hash(user.id, previous=previous, new=new_hash):
            raise Conflict("the password was changed meanwhile; try again", reason="CONCURRENT_UPDATE")
        user.record_password_change(actor=cmd.actor, now=now)
        for session in await uow.sessions.active_of(user.id):
            if str(session.id) != cmd.session_id:
                session.revoke("password_changed", now=now)
                await uow.sessions.save(session)
        await uow.commit()
