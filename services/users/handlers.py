"""Account use cases (create, read, list, update, deactivate, eligibility, the first admin).

Each runs in one unit of work; the servicer only translates protos to these calls. Who may call each RPC
at all is the mesh policy's business; which fields an actor may write is the domain's.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, Self

from services.support.runtime import pagination
from services.support.runtime.clock import Clock
from services.support.runtime.errors import AlreadyExists, Conflict, InvalidArgument
from services.support.runtime.idempotency import RequestLog
from services.users.domain import Actor, Eligibility, Profile, User, UserRole, UserStatus
from services.users.passwords import Passwords
from services.users.repository import (
    CardNumberTaken,
    SqlSessionRepository,
    SqlThrottleRepository,
    SqlUserRepository,
    UserFilter,
)
from services.users.validation import password_violation

CARD_NUMBER_ATTEMPTS = 5


class UsersUnitOfWork(Protocol):
    users: SqlUserRepository
    sessions: SqlSessionRepository
    throttles: SqlThrottleRepository
    requests: RequestLog

    async def __aenter__(self) -> Self: ...
    async def __aexit__(self, *exc: object) -> None: ...
    async def commit(self) -> None: ...


@dataclass(frozen=True, slots=True)
class CreateUser:
    profile: Profile
    password: str
    actor: Actor
    request_id: uuid.UUID | None = None


@dataclass(frozen=True, slots=True)
class UpdateUser:
    user_id: uuid.UUID
    changes: Profile
    mask: frozenset[str]
    actor: Actor
    etag: str = ""


@dataclass(frozen=True, slots=True)
class ListUsers:
    where: UserFilter
    page_size: int = 0
    page_token: str = ""


@dataclass(frozen=True, slots=True)
class UsersPage:
    users: list[User]
    next_page_token: str
    total_size: int


def check_new_account(profile: Profile, password: str, *, prefix: str, password_required: bool) -> None:
    """One InvalidArgument naming every bad field, before any expensive hashing."""
    violations = profile.violations(prefix=prefix)
    problem = password_violation(password, profile.email.strip().lower()) if password or password_required else None
    if problem is not None:
        violations.append(problem)
    if violations:
        raise InvalidArgument(violations)


async def add_new_user(uow: UsersUnitOfWork, make: Callable[[], User]) -> User:
    """Insert a freshly made user, drawing a new card number on the (rare) collision."""
    for _ in range(CARD_NUMBER_ATTEMPTS):
        user = make()
        try:
            await uow.users.add(user)
        except CardNumberTaken:
            continue
        return user
    raise Conflict("could not allocate a library card number; retry", reason="CARD_NUMBER_EXHAUSTED")


async def create_user(cmd: CreateUser, uow: UsersUnitOfWork, clock: Clock, passwords: Passwords) -> User:
    """An account made at the desk; a repeated request_id returns the account the first call made."""
    check_new_account(cmd.profile, cmd.password, prefix="user.", password_required=False)
    password_hash = await passwords.hash(cmd.password) if cmd.password else ""
    async with uow:
        if previous := await uow.requests.recall(cmd.request_id, "CreateUser"):
            return await uow.users.get(uuid.UUID(previous.removeprefix("users/")))
        now = clock.now()
        user = await add_new_user(
            uow, lambda: User.register(cmd.profile, password_hash=password_hash, now=now, created_by=cmd.actor)
        )
        await uow.requests.remember(cmd.request_id, "CreateUser", user.name)
        await uow.commit()
    return user


async def get_user(user_id: uuid.UUID, uow: UsersUnitOfWork) -> User:
    async with uow:
        return await uow.users.get(user_id)


async def list_users(query: ListUsers, uow: UsersUnitOfWork) -> UsersPage:
    """Newest first, keyset-paginated; the token is bound to the filter it was issued for."""
    size = pagination.page_size(query.page_size)
    where = query.where
    fingerprint = pagination.fingerprint("ListUsers", where.role, where.status, where.patron_category, where.text)
    cursor = pagination.decode_token(query.page_token, fingerprint)
    after = _decode_cursor(cursor) if cursor else None
    async with uow:
        page = await uow.users.list_newest_first(where, after=after, limit=size)
    next_token = ""
    if page.has_more and page.users:
        last = page.users[-1]
        next_token = pagination.encode_token([last.created_at.isoformat(), str(last.id)], fingerprint)
    return UsersPage(users=page.users, next_page_token=next_token, total_size=page.total_size)


async def update_user(cmd: UpdateUser, uow: UsersUnitOfWork, clock: Clock) -> User:
    """Change the masked fields; a status that is no longer ACTIVE also signs the user out everywhere."""
    if not cmd.mask:
        raise InvalidArgument.field("update_mask", "name at least one field to change")
    async with uow:
        user = await uow.users.get(cmd.user_id)
        user.check_etag(cmd.etag)
        now = clock.now()
        user.update(cmd.changes, cmd.mask, actor=cmd.actor, now=now)
        await uow.users.save(user)
        if user.profile.status != UserStatus.ACTIVE:
            await _revoke_sessions(uow, user, f"account_{user.profile.status}", now)
        await uow.commit()
    return user


async def delete_user(user_id: uuid.UUID, actor: Actor, uow: UsersUnitOfWork, clock: Clock, *, etag: str = "") -> User:
    """Deactivate (the record stays for loan history and audit) and end every session of the account."""
    async with uow:
        user = await uow.users.get(user_id)
        user.check_etag(etag)
        now = clock.now()
        if user.profile.status != UserStatus.DEACTIVATED:
            user.deactivate(actor=actor, now=now)
            await uow.users.save(user)
        await _revoke_sessions(uow, user, "account_deactivated", now)
        await uow.commit()
    return user


async def borrowing_eligibility(user_id: uuid.UUID, uow: UsersUnitOfWork, clock: Clock) -> tuple[User, Eligibility]:
    """What the loans service asks before lending: is the patron active, and under which category."""
    async with uow:
        user = await uow.users.get(user_id)
    return user, user.eligibility(clock.now())


async def bootstrap_admin(email: str, password: str, uow: UsersUnitOfWork, clock: Clock, passwords: Passwords) -> None:
    """Create the first admin from settings when no account has that email (dev/test, or a first deploy)."""
    if not email or not password:
        return
    profile = Profile(email=email, display_name="Administrator", role=UserRole.ADMIN, patron_category="STAFF")
    async with uow:
        if await uow.users.find_by_email(profile.validated().email) is not None:
            return
    password_hash = await passwords.hash(password)
    async with uow:
        try:
            await add_new_user(uow, lambda: User.register(profile, password_hash=password_hash, now=clock.now()))
        except AlreadyExists:
            return  # another process of the service bootstrapped it first
        await uow.commit()


async def _revoke_sessions(uow: UsersUnitOfWork, user: User, reason: str, now: datetime) -> None:
    for session in await uow.sessions.active_of(user.id):
        session.revoke(reason, now=now)
        await uow.sessions.save(session)


def _decode_cursor(cursor: list[object]) -> tuple[datetime, uuid.UUID]:
    try:
        created_at, user_id = cursor
        return datetime.fromisoformat(str(created_at)), uuid.UUID(str(user_id))
    except ValueError:
        raise InvalidArgument.field("page_token", "is not a token this service issued") from None
