"""Account use cases: create, read, list, update, deactivate, borrowing eligibility (the operators' admin
commands are admins.py).

Each runs in one unit of work; the servicer only translates protos to these calls. Who may call each RPC
at all is the access policy's business (declared in the protos); which fields an actor may write is the
domain's.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import UTC, datetime, tzinfo

from services.support.runtime.branches import ANY_BRANCH, LibraryBranches
from services.support.runtime.clock import Clock
from services.support.runtime.errors import Conflict, DependencyUnavailable, InvalidArgument
from services.support.runtime.pagination import cursor_time, decode_token, fingerprint, page_size
from services.support.runtime.paging import Page, page_from_rows
from services.users.app.announcing import confirm_announced
from services.users.app.enrolment import add_new_user, at_home_branch, check_new_account
from services.users.app.password_attempts import ConfirmPassword, confirm_password
from services.users.app.ports import Circulation, Passwords, UserCursor, UserFilter, UsersUnitOfWork
from services.users.domain.accounts import USER, Actor, Eligibility, Standing, User
from services.users.domain.last_admin import ensure_an_admin_remains, is_active_admin
from services.users.domain.patron_search import may_be_card_or_email
from services.users.domain.profile import Profile, UserStatus
from services.users.domain.throttling import SignInThrottling


@dataclass(frozen=True, slots=True)
class CreateUser:
    profile: Profile
    password: str
    actor: Actor
    request_id: uuid.UUID | None = None


@dataclass(frozen=True, slots=True)
class GetUser:
    user_id: uuid.UUID


@dataclass(frozen=True, slots=True)
class ListUsers:
    where: UserFilter
    page_size: int = 0
    page_token: str = ""


@dataclass(frozen=True, slots=True)
class UpdateUser:
    user_id: uuid.UUID
    changes: Profile
    mask: frozenset[str]
    actor: Actor
    etag: str = ""
    current_password: str = ""
    """The actor's own password: needed when they change their own email."""
    client: str = ""
    """Where the request came from (the edge's word), for the password throttle."""


@dataclass(frozen=True, slots=True)
class DeleteUser:
    user_id: uuid.UUID
    actor: Actor
    etag: str = ""


@dataclass(frozen=True, slots=True)
class GetBorrowingEligibility:
    user_id: uuid.UUID


async def create_user(
    cmd: CreateUser,
    *,
    uow: UsersUnitOfWork,
    clock: Clock,
    passwords: Passwords,
    library_zone: tzinfo = UTC,
    branches: LibraryBranches = ANY_BRANCH,
) -> User:
    """An account made at the desk; a repeated request_id returns the account the first call made. Its
    membership lasts to the end of the library's day (in `library_zone`) on which expire_time falls; its home
    branch is one of the library's `branches` when it lists them."""
    check_new_account(cmd.profile, cmd.password, prefix="user.", password_required=False, branches=branches)
    profile = at_home_branch(cmd.profile, branches).lasting_to_the_end_of_day(library_zone)
    password_hash = await passwords.hash(cmd.password) if cmd.password else ""
    async with uow:
        if previous := await uow.requests.recall(cmd.request_id, "CreateUser"):
            return await uow.users.get(USER.parse_id(previous))
        now = clock.now()
        user = await add_new_user(
            uow, lambda: User.register(profile, password_hash=password_hash, now=now, created_by=cmd.actor)
        )
        await uow.requests.remember(cmd.request_id, "CreateUser", user.name)
        await uow.commit()
    return user


async def get_user(cmd: GetUser, *, uow: UsersUnitOfWork) -> User:
    """One account."""
    async with uow.reading():
        return await uow.users.get(cmd.user_id)


async def list_users(cmd: ListUsers, *, uow: UsersUnitOfWork, clock: Clock) -> Page[User]:
    """Newest first, keyset-paginated; the token is bound to the filter it was issued for. A status filter
    matches the status the list shows (EXPIRED once the membership ran out, whatever is stored)."""
    size = page_size(cmd.page_size)
    where = cmd.where
    query = fingerprint("ListUsers", where.role, where.status, where.patron_category, where.text)
    cursor = decode_token(cmd.page_token, query)
    after = _decode_cursor(cursor) if cursor else None
    now = clock.now()
    async with uow.reading():
        where = await _exact_match_first(uow, where, now=now)
        rows = await uow.users.list_newest_first(where, now=now, after=after, limit=size + 1)
        total = await uow.users.count(where, now=now)
    return page_from_rows(rows, limit=size, query=query, cursor_of=_cursor_of, total_size=total)


async def _exact_match_first(uow: UsersUnitOfWork, where: UserFilter, *, now: datetime) -> UserFilter:
    """A whole card number or email (the desk's scan) finds its account alone, by the unique indexes, as Koha's
    patron search tries the card number before the name; any other text is searched in names, emails, phones
    and card numbers. Decided on every page alike (not after the cursor), so that pages of one list agree."""
    if not may_be_card_or_email(where.text):
        return where
    exact = replace(where, exact=True)
    return exact if await uow.users.count(exact, now=now) else where


async def update_user(
    cmd: UpdateUser,
    *,
    uow: UsersUnitOfWork,
    clock: Clock,
    passwords: Passwords,
    throttling: SignInThrottling,
    library_zone: tzinfo = UTC,
    branches: LibraryBranches = ANY_BRANCH,
) -> User:
    """Change the masked fields. One's own email only with one's password. A new role, or a new status (a
    past expire_time included, and a block lifted), signs the user out everywhere: access tokens carry the
    role and whether the account is restricted, and the old ones must not outlive the change. The last active
    admin stays one. A membership lasts to the end of the library's day (in `library_zone`) on which a new
    expire_time falls. A home branch named in the mask is one of the library's `branches` when it lists them
    (one the update leaves alone is not checked: accounts made before the list stay as they are)."""
    if not cmd.mask:
        raise InvalidArgument.field("update_mask", "name at least one field to change")
    changes = at_home_branch(cmd.changes, branches) if "home_branch" in cmd.mask else cmd.changes
    if "email" in cmd.mask and cmd.actor.name == USER.format(cmd.user_id):
        confirm = ConfirmPassword(cmd.user_id, cmd.current_password, client=cmd.client)
        await confirm_password(confirm, uow=uow, clock=clock, passwords=passwords, throttling=throttling)
    async with uow:
        user = await uow.users.get(cmd.user_id)
        user.check_etag(cmd.etag)
        now = clock.now()
        before = user.profile
        user.update(changes.lasting_to_the_end_of_day(library_zone), cmd.mask, actor=cmd.actor, now=now)
        await _keep_an_admin(uow, user, before, now=now)
        await uow.users.save(user)
        status = user.effective_status(now)  # tokens carry it (restricted or not): a new one ends them all
        if status != before.effective_status(now):
            await revoke_sessions(uow, user, f"account_{status}", now=now)
        elif user.profile.role != before.role:
            await revoke_sessions(uow, user, "role_changed", now=now)
        await uow.commit()
    await _announced(uow)
    return user


async def delete_user(cmd: DeleteUser, *, uow: UsersUnitOfWork, clock: Clock, circulation: Circulation) -> User:
    """Deactivate (the record stays for loan history and audit) and end every session of the account; refused
    while the patron has books out or fines unpaid (the loans service is asked, and when it cannot answer
    the account stays open: UNAVAILABLE, retry).

    The race: a loan whose issue began before the close (its eligibility read while the account was still
    open) and is still in flight is not yet listed, and may become ACTIVE after the check. What bounds it:
    the close is answered only once it is announced (`_announced`), and loans' projection of accounts (or
    the users service it falls back to) refuses every issue that begins after that; so only an issue
    already under way in that instant, at most a saga's timeout long, can slip past. A charge cannot: the loans
    service holds the patron's charges from the question on, and the close is committed within that hold or not
    at all (`_ensure_charges_still_held`; loans app/closing.py)."""
    async with uow:  # every refusal of our own comes before the question to loans (no commit: rolled back)
        found = await uow.users.get(cmd.user_id)
        found.check_etag(cmd.etag)
        found.check_may_deactivate(cmd.actor)
        closing = found.profile.status != UserStatus.DEACTIVATED
        if closing:
            closed = replace(found, profile=replace(found.profile, status=UserStatus.DEACTIVATED))
            await _keep_an_admin(uow, closed, found.profile, now=clock.now())
    asked_at = clock.now()
    standing = await circulation.standing(found.name) if closing else None  # no transaction held meanwhile
    async with uow:
        user = await uow.users.get(cmd.user_id)
        user.check_etag(cmd.etag)
        now = clock.now()
        if user.profile.status != UserStatus.DEACTIVATED:
            if standing is None:  # reopened since it was read: its loans were not asked about
                raise Conflict(f"{user.name} changed meanwhile; retry", reason="CONCURRENT_UPDATE", retry_after=1.0)
            before = user.profile
            user.deactivate(actor=cmd.actor, now=now, standing=standing)
            await _keep_an_admin(uow, user, before, now=now)
            await uow.users.save(user)
            _ensure_charges_still_held(standing, asked_at, now)
        await revoke_sessions(uow, user, "account_deactivated", now=now)
        await uow.commit()
    await _announced(uow)
    return user


def _ensure_charges_still_held(standing: Standing, asked_at: datetime, now: datetime) -> None:
    """The loans service takes no charge for the patron for `charges_held_for` from the question: the close is
    committed well within it (half of it, for the commit itself and the clocks' drift) or not at all, so that no
    charge checked against the account before the close is committed after it (finding NF3)."""
    held = standing.charges_held_for
    if held and now > asked_at + held / 2:
        raise DependencyUnavailable(
            "the account was not closed: it took too long after asking the loans service what the reader still "
            "owes; send the close again",
            reason="CLOSE_TOO_SLOW",
            retry_after=1.0,
        )


async def _announced(uow: UsersUnitOfWork) -> None:
    """A change is confirmed only once the other services can know it: loans lends by its projection of
    accounts, which must not be behind what a librarian was told (a block, a closed account, a category)."""
    await confirm_announced(
        uow,
        unconfirmed="the change is saved, but the message bus is unreachable: until it is back, circulation may "
        "not know of it; send the change again to confirm it",
    )


async def get_borrowing_eligibility(
    cmd: GetBorrowingEligibility, *, uow: UsersUnitOfWork, clock: Clock
) -> tuple[User, Eligibility]:
    """What the loans service asks before lending: is the patron active, and under which category."""
    async with uow.reading():
        user = await uow.users.get(cmd.user_id)
    return user, user.eligibility(clock.now())


async def _keep_an_admin(uow: UsersUnitOfWork, user: User, before: Profile, *, now: datetime) -> None:
    """FAILED_PRECONDITION (LAST_ADMIN) when the change would leave no admin who can sign in at `now`."""
    if is_active_admin(before, now=now) and not is_active_admin(user.profile, now=now):
        active_admins = await uow.users.lock_active_admins(now=now)
        ensure_an_admin_remains(user, before, active_admins=active_admins, now=now)


async def revoke_sessions(uow: UsersUnitOfWork, user: User, reason: str, *, now: datetime) -> None:
    """End every session of the account still open (its access tokens are refused from then on)."""
    for session in await uow.sessions.active_of(user.id):
        session.revoke(reason, now=now)
        await uow.sessions.save(session)


def _cursor_of(user: User) -> list[str]:
    return [user.created_at.isoformat(), str(user.id)]


def _decode_cursor(cursor: list[object]) -> UserCursor:
    try:
        created_at, user_id = cursor
        return UserCursor(cursor_time(created_at), uuid.UUID(str(user_id)))
    except ValueError:
        raise InvalidArgument.field("page_token", "is not a token this service issued") from None
