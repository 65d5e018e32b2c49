"""The digest of an hour's later books by a followed author in the real Postgres (finding B3): it is stored,
so a restart of the service in between loses none; a redelivered event adds its book once; two consumers
gathering at once each add theirs; an unfollow before it goes takes it away."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import create_async_engine

from services.notifications.api import events
from services.notifications.app.announcing import announcements
from services.notifications.app.following import UnfollowAuthor, unfollow_author
from services.notifications.app.notifying import Rules, take_in
from services.notifications.app.ports import NotificationFilter
from services.notifications.app.querying import Viewer
from services.notifications.app.reminders import send_due_reminders
from services.notifications.data.rendering import JinjaRenderer
from services.notifications.data.template_seeds import BUILTIN
from services.notifications.data.templates import TemplateCache
from services.notifications.data.trial_render import inspected_in_process
from services.notifications.data.unit_of_work import SqlNotificationsUnitOfWork
from services.notifications.domain.delivery import SmsPolicy
from services.notifications.domain.follows import FollowedAuthor, NewBook
from services.notifications.domain.kinds import Kind
from services.notifications.domain.notifications import Notification
from services.notifications.domain.recipients import AccountStatus, Recipient
from services.support.runtime.clock import FixedClock
from services.support.runtime.engine import session_factory
from services.support.runtime.migrations import upgrade_to_head

pytestmark = pytest.mark.integration
NOON = datetime(2026, 3, 14, 12, 0, tzinfo=UTC)
RULES = Rules(sms=SmsPolicy(quiet_start=None, quiet_end=None))
RENDERER = JinjaRenderer(inspection=inspected_in_process)

UnitOfWork = Callable[[], SqlNotificationsUnitOfWork]
Restart = Callable[[], UnitOfWork]


class NoCatalog:
    async def book_title(self, book: str) -> str:
        raise AssertionError("a new book's event carries its title")


@pytest.fixture
async def restart(postgres) -> AsyncIterator[Restart]:
    """Each call is the service started afresh on the same database: a new engine, nothing kept in memory."""
    url = await asyncio.to_thread(postgres.fresh_database, "notifications_digests")
    await asyncio.to_thread(upgrade_to_head, "notifications", url)
    engines = []

    def start() -> UnitOfWork:
        engines.append(engine := create_async_engine(url))
        cache = TemplateCache(BUILTIN)
        return lambda: SqlNotificationsUnitOfWork(
            session_factory(engine), encode=events.encode, templates=cache, on_driver=True
        )

    yield start
    for engine in engines:
        await engine.dispose()


async def reader(uow: UnitOfWork) -> tuple[Recipient, FollowedAuthor]:
    person = Recipient(uuid.uuid4(), email="ada@example.org", status=AccountStatus.ACTIVE)
    follow = FollowedAuthor.follow(person.user_id, "Булгаков", now=NOON)
    async with uow() as work:
        await work.recipients.save(person)
        await work.follows.add(follow)
        await work.commit()
    return person, follow


def book(title: str, *, minutes: int, event_id: uuid.UUID | None = None) -> NewBook:
    return NewBook(
        event_id or uuid.uuid4(), NOON + timedelta(minutes=minutes), f"books/{uuid.uuid4()}", title,
        ("Булгаков, Михаил",),
    )  # fmt: skip


async def announce(uow: UnitOfWork, *books: NewBook) -> None:
    intakes = [intake for b in books if (intake := await announcements(b, uow=uow())) is not None]
    await take_in(intakes, uow=uow(), clock=FixedClock(NOON), renderer=RENDERER, catalog=NoCatalog(), rules=RULES)


async def told(uow: UnitOfWork, person: Recipient, *, at: datetime) -> list[Notification]:
    await send_due_reminders(limit=100, uow=uow(), clock=FixedClock(at), renderer=RENDERER, rules=RULES)
    async with uow() as work:
        found = await work.notifications.list_newest_first(
            NotificationFilter(recipient_id=person.user_id, kind=Kind.NEW_BOOK_BY_AUTHOR), after=None, limit=100
        )
    return sorted(found, key=lambda n: n.created_at)


async def test_the_hours_digest_survives_a_restart_and_a_redelivered_book_is_in_it_once(restart) -> None:
    uow = restart()
    person, _ = await reader(uow)
    first, second, third = book("Бег", minutes=5), book("Морфий", minutes=20), book("Дни Турбиных", minutes=40)
    await announce(uow, first, second)
    await announce(uow, third, second, first)  # a redelivery of the first two, in a batch with the third
    assert [n.content.subject for n in await told(uow, person, at=NOON + timedelta(minutes=59))] == [
        "New from Булгаков, Михаил: “Бег”"
    ]

    uow = restart()  # the service restarted before the hour ended: the digest is in the database
    await announce(uow, second)  # and JetStream delivers one again
    mails = await told(uow, person, at=NOON + timedelta(hours=1))
    assert [n.content.subject for n in mails] == [
        "New from Булгаков, Михаил: “Бег”",
        "2 more new books by Булгаков, Михаил",
    ]
    assert mails[1].params["book_titles"] == "“Морфий” and “Дни Турбиных”"

    await announce(uow, third)  # redelivered after its digest went: told already
    assert len(await told(uow, person, at=NOON + timedelta(hours=3))) == 2


async def test_two_consumers_gathering_for_one_reader_at_once_lose_neither_book(restart) -> None:
    uow = restart()
    person, _ = await reader(uow)
    await announce(uow, book("Бег", minutes=1))
    later = [book(f"Рассказ {n}", minutes=10 + n) for n in range(6)]
    await asyncio.gather(*(announce(uow, b) for b in later))
    (_, digest) = await told(uow, person, at=NOON + timedelta(hours=1))
    assert digest.params["book_count"] == "6"
    assert digest.content.subject == "6 more new books by Булгаков, Михаил"


async def test_a_follow_removed_before_the_hour_ends_takes_its_digest_with_it(restart) -> None:
    uow = restart()
    person, follow = await reader(uow)
    await announce(uow, book("Бег", minutes=1), book("Морфий", minutes=2))
    viewer = Viewer(f"users/{person.user_id}", is_staff=False)
    await unfollow_author(UnfollowAuthor(person.user_id, follow.id, viewer), uow=uow())
    assert [n.content.subject for n in await told(uow, person, at=NOON + timedelta(hours=1))] == [
        "New from Булгаков, Михаил: “Бег”"
    ]
