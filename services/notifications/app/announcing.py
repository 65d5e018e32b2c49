"""A new book in the catalog, announced to the readers who follow one of its authors (kind
new_book_by_author): the announcements become an Intake, taken in like any event's."""

from __future__ import annotations

from services.notifications.app.ports import NotificationsUnitOfWork
from services.notifications.domain.follows import NewBook, announce
from services.notifications.domain.occurrences import Intake


async def announcements(book: NewBook, *, uow: NotificationsUnitOfWork) -> Intake | None:
    """One announcement per follower of the book's authors; None when nobody follows them. Read again on each
    delivery of the event: the notifications' one-per-event-and-recipient rule keeps a redelivery from
    telling anyone twice, and tells one who followed meanwhile."""
    words = book.words
    if not words:
        return None
    async with uow.reading():
        follows = await uow.follows.followers(words)
    return announce(book, follows)
