# ruff: noqa: RUF001  (Cyrillic initials on purpose)
"""A new book in the catalog, announced to its authors' followers as the service runs: real process, NATS
(the catalog's stream), Postgres."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime

import nats as nats_client
import pytest
import sqlalchemy as sa
from google.protobuf import field_mask_pb2
from notifications_harness import Notifications, Patron
from sqlalchemy.ext.asyncio import AsyncSession

from athenaeum.catalog.v1 import catalog_pb2
from athenaeum.catalog.v1 import events_pb2 as catalog_events
from athenaeum.users.v1 import events_pb2 as users
from athenaeum.users.v1 import users_pb2
from services.notifications.data.follows import SqlFollowRepository
from services.notifications.data.tables import followed_authors, reminders
from services.notifications.domain.follows import FollowedAuthor
from services.support.runtime.wire import event_subject, timestamp

pytestmark = pytest.mark.integration
KIND = "new_book_by_author"


async def follow(notifications: Notifications, patron: Patron, author: str) -> None:
    made = FollowedAuthor.follow(uuid.UUID(patron.name.split("/")[1]), author, now=datetime.now(UTC))
    async with AsyncSession(notifications.engine) as session, session.begin():
        await SqlFollowRepository(session).add(made)  # as FollowAuthor stores it


def book_created(*authors: str, name: str = "") -> catalog_events.BookCreated:
    book = catalog_pb2.Book(
        name=name or f"books/{uuid.uuid4()}", title="The Master and Margarita", authors=list(authors)
    )
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


async def test_followers_are_found_by_any_spelling_of_the_author_and_co_authors_are_told_apart(
    notifications: Notifications,
) -> None:
    notifications.processes or notifications.start("n1")
    surname, initial, other, kernighan = [await notifications.register() for _ in range(4)]
    await follow(notifications, surname, "Булгаков")
    await follow(notifications, initial, "М. Булгаков")
    await follow(notifications, other, "Афанасий Булгаков")  # the father: not him
    await follow(notifications, kernighan, "Kernighan")
    await notifications.publish("catalog", book_created("Булгаков, Михаил Афанасьевич", "Donovan & Kernighan"))

    async def told() -> list[int]:
        return [await notifications.count(kind=KIND, recipient=p) for p in (surname, initial, other, kernighan)]

    assert await notifications.eventually(told, lambda counts: counts == [1, 1, 0, 1], timeout=30) == [1, 1, 0, 1]
    (row,) = await notifications.rows(kind=KIND, recipient_id=uuid.UUID(kernighan.name.split("/")[1]))
    assert "Булгаков, Михаил Афанасьевич; Donovan & Kernighan" in row.body


async def test_an_author_added_by_an_edit_is_announced_to_their_followers_once(notifications: Notifications) -> None:
    notifications.processes or notifications.start("n1")
    first, second = [await notifications.register() for _ in range(2)]
    await follow(notifications, first, "Первый Автор")
    await follow(notifications, second, "Второй Соавтор")
    name = f"books/{uuid.uuid4()}"
    await notifications.publish("catalog", book_created("Первый Автор", name=name))
    for before, after in ((["Первый Автор"], ["Первый Автор", "Второй Соавтор"]),
                          (["Первый Автор", "Второй Соавтор"], ["Первый Автор"]),
                          (["Первый Автор"], ["Первый Автор", "Соавтор Второй"])):  # fmt: skip
        edited = catalog_events.BookUpdated(
            event_id=str(uuid.uuid4()), occur_time=timestamp(datetime.now(UTC)),
            book=catalog_pb2.Book(name=name, title="Сборник", authors=after),
            update_mask=field_mask_pb2.FieldMask(paths=["authors"]),
            previous_values={"authors": json.dumps(before, ensure_ascii=False)},
        )  # fmt: skip
        await notifications.publish("catalog", edited)

    async def told() -> list[int]:
        return [await notifications.count(kind=KIND, recipient=p) for p in (first, second)]

    assert await notifications.eventually(told, lambda counts: counts == [1, 1], timeout=30) == [1, 1]
    await asyncio.sleep(2)  # the later edits have been taken in (and stored nothing) by now
    assert await told() == [1, 1]


async def _not_at_the_turn_of_an_hour(margin: float = 45.0) -> None:
    """Wait for the next hour when this one ends within `margin` seconds: the announcements' window is the
    clock hour, and an import taken in across its turn is rightly announced once in each hour."""
    now = datetime.now(UTC)
    left = 3600 - (now.minute * 60 + now.second + now.microsecond / 1e6)
    if left < margin:
        await asyncio.sleep(left + 1)


async def test_an_import_of_forty_books_by_a_followed_author_makes_one_announcement(
    notifications: Notifications,
) -> None:
    notifications.processes or notifications.start("n1")
    await _not_at_the_turn_of_an_hour()
    reader = await notifications.register()
    await follow(notifications, reader, "Дарья Донцова")
    await notifications.publish_many("catalog", [book_created("Донцова, Дарья", "Иванов, Пётр") for _ in range(40)])
    assert (
        await notifications.eventually(
            lambda: notifications.count(kind=KIND, recipient=reader), lambda n: n >= 1, timeout=30
        )
        == 1
    )
    await asyncio.sleep(3)  # the other 39 have been taken in by now: gathered for the hour's digest (B3)
    assert await notifications.count(kind=KIND, recipient=reader) == 1
    query = sa.select(reminders.c.occurrence).where(reminders.c.key.startswith(f"{KIND}/{reader.name.split('/')[1]}/"))
    async with notifications.engine.connect() as connection:
        digests = (await connection.execute(query)).scalars().all()
    assert [len(digest["gathered"]) for digest in digests] == [39]
