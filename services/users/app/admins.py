"""The operators' admin commands, outside the API: the first admin made from settings at start (in a library
with no admin at all), and an admin restored by the users CLI when nobody can administer the library any more.
"""

from __future__ import annotations

from dataclasses import dataclass

from services.support.runtime.clock import Clock
from services.support.runtime.errors import AlreadyExists
from services.support.runtime.identity import Role
from services.users.app.accounts import revoke_sessions
from services.users.app.announcing import confirm_announced
from services.users.app.enrolment import add_new_user, check_new_account
from services.users.app.ports import Passwords, UserFilter, UsersUnitOfWork
from services.users.domain.accounts import Actor, User
from services.users.domain.profile import Profile, UserStatus

RESTORED_FIELDS = frozenset({"role", "status", "status_reason", "expire_time"})
OPERATOR = Actor("operator", Role.ADMIN)
"""Who acts in a server-side operator command (the users CLI): the events record it as such."""


@dataclass(frozen=True, slots=True)
class BootstrapAdmin:
    email: str
    password: str


@dataclass(frozen=True, slots=True)
class RestoreAdmin:
    email: str
    password: str


async def bootstrap_admin(cmd: BootstrapAdmin, *, uow: UsersUnitOfWork, clock: Clock, passwords: Passwords) -> None:
    """Create the first admin from settings into a library with no admin account at all, in any status (dev/test,
    or a first deploy). Not when only that email is missing: renaming the first admin would make a second one,
    with the password still in the Secret, at the next start. Nobody left to administer: `restore-admin`."""
    if not cmd.email or not cmd.password:
        return
    profile = Profile(email=cmd.email, display_name="Administrator", role=Role.ADMIN, patron_category="STAFF")
    async with uow:
        if await uow.users.count(UserFilter(role=Role.ADMIN), now=clock.now()):
            return
        if await uow.users.find_by_email(profile.validated().email) is not None:
            return
    password_hash = await passwords.hash(cmd.password)
    async with uow:
        try:
            await add_new_user(uow, lambda: User.register(profile, password_hash=password_hash, now=clock.now()))
        except AlreadyExists:
            return  # another process of the service bootstrapped it first
        await uow.commit()


async def restore_admin(cmd: RestoreAdmin, *, uow: UsersUnitOfWork, clock: Clock, passwords: Passwords) -> User:
    """An active admin with this email and password: a new account, or the existing one made an admin again,
    active and unexpired, with this password (its sessions end). For operators, server-side, when nobody can
    administer the library any more. Confirmed once its events are on the bus: the other services honour the
    sign-outs only then."""
    profile = Profile(email=cmd.email, display_name="Administrator", role=Role.ADMIN, patron_category="STAFF")
    check_new_account(profile, cmd.password, prefix="", password_required=True)
    password_hash = await passwords.hash(cmd.password)
    async with uow:
        found = await uow.users.find_by_email(profile.validated().email)
        now = clock.now()
        if found is None:
            register = lambda: User.register(profile, password_hash=password_hash, now=now, created_by=OPERATOR)  # noqa: E731
            user = await add_new_user(uow, register)
        else:
            user = await uow.users.get(found.id)
            restored = Profile(email="", role=Role.ADMIN, status=UserStatus.ACTIVE)
            user.update(
                restored, frozenset({"role", "status", "status_reason", "expire_time"}), actor=OPERATOR, now=now
            )
            await uow.users.save(user)
            await uow.users.replace_password_hash(user.id, previous=found.password_hash, new=password_hash)
            await revoke_sessions(uow, user, "admin_restored", now=now)
        await uow.commit()
    await confirm_announced(uow, unconfirmed=UNCONFIRMED)
    return user


UNCONFIRMED = (
    "the admin is restored (sign in with the new password) and its earlier sessions are ended in the users "
    "database, but not yet on the message bus: until the users service relays that (is it running, and the "
    "message bus reachable?), the other services may still accept those sessions' tokens. Run restore-admin "
    "again to confirm it"
)
"""Said when the sign-outs did not reach the bus in time: the command has no relay of its own, the running
service's publishes its events at its next poll, as any change of an account is confirmed (announcing.py)."""
