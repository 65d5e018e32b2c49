"""A new book in the catalog, announced to its authors' followers as the service runs: real process, NATS
(the catalog's stream), Postgres."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

import nats as nats_client
import pytest
import sqlalchemy as sa
from notifications_harness import Notifications, Patron

from athenaeum.catalog.v1 import catalog_pb2
from athenaeum.catalog.v1 import events_pb2 as catalog_events
from athenaeum.users.v1 import events_pb2 as users
from athenaeum.users.v1 import users_pb2
from services.notifications.data.tables import followed_authors
from services.notifications.domain.follows import FollowedAuthor
from services.support.runtime.wire import event_subject, timestamp

pytestmark = pytest.mark.integration
KIND = "new_book_by_author"


async def follow(notifications: Notifications, patron: Patron, author: str) -> None:
    made = FollowedAuthor.follow(uuid.UUID(patron.name.split("/")[1]), author, now=datetime.now(UTC))
    async with notifications.engine.begin() as connection:
        await connection.execute(
            sa.insert(followed_authors).values(
                id=made.id, user_id=made.user_id, author=made.author, key=made.key, created_at=made.created_at
            )
        )


def book_created(*authors: str) -> catalog_events.BookCreated:
    book = catalog_pb2.Book(name=f"books/{uuid.uuid4()}", title="The Master and Margarita", authors=list(authors))
    return catalog_events.BookCreated(event_id=str(uuid.uuid4()), occur_time=timestamp(datetime.now(UTC)), book=book)


async def redeliver(notifications: Notifications, event: catalog_events.BookCreated) -> None:
    """The same event published again under another message id (the stream's deduplication lets it through,
    as after a publisher's retry past its window): the consumer sees it a second time."""
    client = await nats_client.connect(notifications.nats_url)
    try:
        await client.jetstream().publish(
            event_subject("catalog", event), event.SerializeToString(), headers={"Nats-Msg-Id": str(uuid.uuid4())}
        )
    finally:
        await client.close()


async def test_each_follower_gets_one_announcement_and_a_redelivery_adds_none(notifications: Notifications) -> None:
    notifications.processes or notifications.start("n1")
    ada, bob, eve = [await notifications.register() for _ in range(3)]
    await follow(notifications, ada, "Bulgakov, Mikhail")
    await follow(notifications, bob, "mikhail bulgakov")
    await follow(notifications, bob, "Ilf, Ilya")  # two of the book's authors: still one announcement
    await follow(notifications, eve, "Leo Tolstoy")
    event = book_created("Mikhail Bulgakov", "Ilya Ilf")
    await notifications.publish("catalog", event)

    async def told() -> list[int]:
        return [await notifications.count(kind=KIND, recipient=p) for p in (ada, bob, eve)]

    assert await notifications.eventually(told, lambda counts: counts == [1, 1, 0], timeout=30) == [1, 1, 0]
    (row,) = await notifications.rows(kind=KIND, recipient_id=uuid.UUID(ada.name.split("/")[1]))
    assert row.source_event_id == uuid.UUID(event.event_id) and "The Master and Margarita" in row.body
    assert f"/#/{event.book.name}" in row.body

    await redeliver(notifications, event)
    await asyncio.sleep(2)  # the redelivered event has been taken in (and stored nothing) by now
    assert await told() == [1, 1, 0]


async def test_a_closed_account_no_longer_follows_anyone(notifications: Notifications) -> None:
    notifications.processes or notifications.start("n1")
    ada = await notifications.register()
    await follow(notifications, ada, "Anna Akhmatova")
    closed = users.UserStatusChanged(
        event_id=str(uuid.uuid4()), occur_time=timestamp(datetime.now(UTC)), name=ada.name,
        status=users_pb2.USER_STATUS_DEACTIVATED,
    )  # fmt: skip
    await notifications.publish("users", closed)

    async def follows_left() -> int:
        user_id = uuid.UUID(ada.name.split("/")[1])
        query = sa.select(sa.func.count()).select_from(followed_authors).where(followed_authors.c.user_id == user_id)
        async with notifications.engine.connect() as connection:
            return int(await connection.scalar(query) or 0)

    assert await notifications.eventually(follows_left, lambda n: n == 0, timeout=30) == 0
    await notifications.publish("catalog", book_created("Akhmatova, Anna"))
    await asyncio.sleep(2)
    assert await notifications.count(kind=KIND, recipient=ada) == 0
