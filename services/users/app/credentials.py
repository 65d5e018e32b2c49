"""A signed-in user changes their own password: the current one proves it is them, the new one replaces it,
and every other session of the account ends (a thief holding one is out). PasswordChanged tells the owner.
Staff give an account made at the desk without a password its first one (domain: check_may_set_password)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from services.support.runtime.clock import Clock
from services.support.runtime.conflicts import CONCURRENT_UPDATE
from services.support.runtime.errors import Conflict, InvalidArgument
from services.users.app.announcing import confirm_announced
from services.users.app.password_attempts import ConfirmPassword, confirm_password
from services.users.app.ports import Passwords, UsersUnitOfWork
from services.users.domain.accounts import USER, Actor, check_may_ask_for_password_change
from services.users.domain.throttling import SignInThrottling
from services.users.domain.validation import password_violation

OPERATION = "ChangePassword"
"""The name a request_id is remembered under (the RPC's, as the runtime's ledger names it)."""


@dataclass(frozen=True, slots=True)
class ChangePassword:
    user_id: uuid.UUID
    current_password: str
    new_password: str
    actor: Actor
    session_id: str
    """The caller's session, which stays signed in."""
    client: str = ""
    """Where the request came from (the edge's word), for the password throttle."""
    request_id: uuid.UUID | None = None


async def change_password(
    cmd: ChangePassword, *, uow: UsersUnitOfWork, clock: Clock, passwords: Passwords, throttling: SignInThrottling
) -> None:
    """Check the current password (throttled like sign-ins), store the new hash, end the other sessions.
    Staff setting a first password have no current one to give. A retry with the request_id of a change that
    was made answers as the change did: its "current" password is the old one, which no longer matches."""
    check_may_ask_for_password_change(cmd.actor, cmd.user_id)
    async with uow:
        repeated = await _made_before(cmd, uow)
        if not repeated:
            user = await uow.users.get(cmd.user_id)
            user.check_may_set_password(cmd.actor)
            if problem := password_violation(cmd.new_password, user.profile.email, field="new_password"):
                raise InvalidArgument(problem)
    if repeated:
        await _signed_out_everywhere(uow)  # the first call may have answered UNAVAILABLE: confirmed only now
        return
    previous = user.password_hash
    if cmd.actor.name == user.name:
        confirm = ConfirmPassword(cmd.user_id, cmd.current_password, client=cmd.client)
        await confirm_password(confirm, uow=uow, clock=clock, passwords=passwords, throttling=throttling)
    new_hash = await passwords.hash(cmd.new_password)
    now = clock.now()
    async with uow:
        user = await uow.users.get(cmd.user_id)
        if not await uow.users.replace_password_hash(user.id, previous=previous, new=new_hash):
            raise Conflict("the password was changed meanwhile; try again", reason=CONCURRENT_UPDATE)
        user.record_password_change(actor=cmd.actor, now=now)
        for session in await uow.sessions.active_of(user.id):
            if str(session.id) != cmd.session_id:
                session.revoke("password_changed", now=now)
                await uow.sessions.save(session)
        await uow.requests.remember(cmd.request_id, OPERATION, user.name)
        await uow.commit()
    await _signed_out_everywhere(uow)


async def _made_before(cmd: ChangePassword, uow: UsersUnitOfWork) -> bool:
    """Whether a call with this request_id changed the password already (a retry whose answer was lost)."""
    made = await uow.requests.recall(cmd.request_id, OPERATION)
    if made is not None and made != USER.format(cmd.user_id):
        raise InvalidArgument.field("request_id", "was already used for another request")
    return made is not None


async def _signed_out_everywhere(uow: UsersUnitOfWork) -> None:
    """Answered once the sessions it ended are revoked on the bus, as a sign-out and a block are: the other
    services refuse their access tokens only when the revocation reaches them, and the answer used to come
    first (an old token was accepted elsewhere for some tens of milliseconds after "password changed")."""
    await confirm_announced(
        uow,
        unconfirmed="the password is changed, but the message bus is unreachable: until it is back, other "
        "services may still accept the signed-out sessions' access tokens; send the change again to confirm it",
    )
