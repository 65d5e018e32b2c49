"""Readers follow authors (FollowAuthor, ListFollowedAuthors, UnfollowAuthor): their own, or any reader's for
staff. What a follow brings (the announcement of a new book) is announcing.py's."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from services.notifications.app import projection
from services.notifications.app.ports import Accounts, FollowCursor, NotificationsUnitOfWork
from services.notifications.app.querying import Viewer
from services.notifications.domain.follows import (
    FOLLOWED_AUTHOR,
    MAX_FOLLOWED_AUTHORS,
    FollowedAuthor,
    already_following,
    digests_of,
    too_many_follows,
)
from services.notifications.domain.recipients import USER, AccountStatus
from services.support.runtime.clock import Clock
from services.support.runtime.errors import FailedPrecondition, InvalidArgument, PermissionDenied
from services.support.runtime.pagination import cursor_time, decode_token, fingerprint, page_size
from services.support.runtime.paging import Page, page_from_rows


@dataclass(frozen=True, slots=True)
class FollowAuthor:
    user_id: uuid.UUID
    author: str
    viewer: Viewer
    request_id: uuid.UUID | None = None


@dataclass(frozen=True, slots=True)
class ListFollowedAuthors:
    user_id: uuid.UUID
    viewer: Viewer
    page_size: int = 0
    page_token: str = ""


@dataclass(frozen=True, slots=True)
class UnfollowAuthor:
    user_id: uuid.UUID
    follow_id: uuid.UUID
    viewer: Viewer


def _may_touch(viewer: Viewer, user_id: uuid.UUID) -> None:
    """A reader's follows are theirs (and staff's): another reader may neither read nor change them."""
    if not viewer.is_staff and viewer.name != USER.format(user_id):
        raise PermissionDenied("a reader follows authors only for themself", reason="NOT_OWN_FOLLOWED_AUTHORS")


async def follow_author(
    cmd: FollowAuthor, *, uow: NotificationsUnitOfWork, clock: Clock, accounts: Accounts | None = None
) -> FollowedAuthor:
    """Follow an author (at most MAX_FOLLOWED_AUTHORS); a repeated request_id returns the first call's follow."""
    _may_touch(cmd.viewer, cmd.user_id)
    follow = FollowedAuthor.follow(cmd.user_id, cmd.author, now=clock.now())
    async with uow:
        if previous := await uow.requests.recall(cmd.request_id, "FollowAuthor"):
            return await uow.follows.get(*FOLLOWED_AUTHOR.parse(previous))
        if cmd.viewer.name != USER.format(cmd.user_id):
            await _open_account(cmd.user_id, uow=uow, accounts=accounts)
        following = await uow.follows.count_of(cmd.user_id, lock=True)
        if (existing := await uow.follows.by_key(cmd.user_id, follow.key)) is not None:
            raise already_following(existing)
        if following >= MAX_FOLLOWED_AUTHORS:
            raise too_many_follows()
        if await uow.follows.add(follow) is None:  # cannot happen under the lock; the constraint says so anyway
            raise already_following(await uow.follows.by_key(cmd.user_id, follow.key) or follow)
        await uow.requests.remember(cmd.request_id, "FollowAuthor", follow.name)
        await uow.commit()
    return follow


async def _open_account(user_id: uuid.UUID, *, uow: NotificationsUnitOfWork, accounts: Accounts | None) -> None:
    """Staff follow for an account that is there and open, answered as SendNotification does: a follow for
    nobody, or for a closed account (whose follows were dropped), would only cost every new book a look-up.
    A reader following for themself is signed in, so their account is both."""
    if (await projection.account_of(user_id, uow=uow, accounts=accounts)).status == AccountStatus.DEACTIVATED:
        raise FailedPrecondition("the account is closed", reason="ACCOUNT_CLOSED")


async def list_followed_authors(cmd: ListFollowedAuthors, *, uow: NotificationsUnitOfWork) -> Page[FollowedAuthor]:
    """The reader's follows, most recent first, keyset-paginated."""
    _may_touch(cmd.viewer, cmd.user_id)
    size = page_size(cmd.page_size)
    query = fingerprint("ListFollowedAuthors", cmd.user_id)
    cursor = decode_token(cmd.page_token, query)
    after = _decode_cursor(cursor) if cursor else None
    async with uow.reading():
        rows = await uow.follows.list_of(cmd.user_id, after=after, limit=size + 1)
        total = await uow.follows.count_of(cmd.user_id)
    return page_from_rows(rows, limit=size, query=query, cursor_of=_cursor_of, total_size=total)


async def unfollow_author(cmd: UnfollowAuthor, *, uow: NotificationsUnitOfWork) -> None:
    """Stop following: books by the author added from now on are not announced to the reader, nor those
    gathered for a digest that has not gone yet."""
    _may_touch(cmd.viewer, cmd.user_id)
    async with uow:
        await uow.follows.remove(cmd.user_id, cmd.follow_id)
        await uow.reminders.cancel_under(digests_of(cmd.user_id, cmd.follow_id))
        await uow.commit()


def _cursor_of(follow: FollowedAuthor) -> list[str]:
    return [follow.created_at.isoformat(), str(follow.id)]


def _decode_cursor(cursor: list[object]) -> FollowCursor:
    try:
        created_at, follow_id = cursor
        return FollowCursor(cursor_time(created_at), uuid.UUID(str(follow_id)))
    except ValueError:
        raise InvalidArgument.field("page_token", "is not a token this service issued") from None
