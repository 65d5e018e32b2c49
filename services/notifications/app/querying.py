"""Reading notifications: a reader sees their own, staff see everyone's."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from services.notifications.app.ports import NotificationCursor, NotificationFilter, NotificationsUnitOfWork
from services.notifications.domain.notifications import Notification
from services.support.runtime.errors import InvalidArgument, PermissionDenied
from services.support.runtime.pagination import cursor_time, decode_token, fingerprint, page_size
from services.support.runtime.paging import Page, page_from_rows


@dataclass(frozen=True, slots=True)
class Viewer:
    """Who reads: "users/{id}", and whether they are staff."""

    name: str
    is_staff: bool


@dataclass(frozen=True, slots=True)
class GetNotification:
    notification_id: uuid.UUID
    viewer: Viewer


@dataclass(frozen=True, slots=True)
class ListNotifications:
    where: NotificationFilter
    viewer: Viewer
    page_size: int = 0
    page_token: str = ""


async def get_notification(cmd: GetNotification, *, uow: NotificationsUnitOfWork) -> Notification:
    """One notification, if the viewer is staff or its recipient."""
    async with uow:
        notification = await uow.notifications.get(cmd.notification_id)
    if not cmd.viewer.is_staff and notification.recipient != cmd.viewer.name:
        raise PermissionDenied("a reader sees only their own notifications", reason="NOT_OWN_NOTIFICATION")
    return notification


async def list_notifications(cmd: ListNotifications, *, uow: NotificationsUnitOfWork) -> Page[Notification]:
    """Newest first, keyset-paginated; a reader's list is always their own."""
    where = cmd.where
    if not cmd.viewer.is_staff and (where.recipient_id is None or f"users/{where.recipient_id}" != cmd.viewer.name):
        raise PermissionDenied("a reader lists only their own notifications", reason="NOT_OWN_NOTIFICATION")
    if where.created_from and where.created_before and where.created_before <= where.created_from:
        raise InvalidArgument.field("end_time", "must be after start_time")
    size = page_size(cmd.page_size)
    query = fingerprint(
        "ListNotifications", where.recipient_id, where.status, where.channel, where.kind,
        where.created_from, where.created_before,
    )  # fmt: skip
    cursor = decode_token(cmd.page_token, query)
    after = _decode_cursor(cursor) if cursor else None
    async with uow:
        rows = await uow.notifications.list_newest_first(where, after=after, limit=size + 1)
        total = await uow.notifications.count(where)
    return page_from_rows(rows, limit=size, query=query, cursor_of=_cursor_of, total_size=total)


def _cursor_of(notification: Notification) -> list[str]:
    return [notification.created_at.isoformat(), str(notification.id)]


def _decode_cursor(cursor: list[object]) -> NotificationCursor:
    try:
        created_at, notification_id = cursor
        return NotificationCursor(cursor_time(created_at), uuid.UUID(str(notification_id)))
    except ValueError:
        raise InvalidArgument.field("page_token", "is not a token this service issued") from None
