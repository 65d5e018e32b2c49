"""The later books of an hour by a followed author (an import, two books catalogued within the hour) are not
dropped (finding B3): the first is told at once, the rest gathered and told in one digest when the hour ends,
each book once however often its event comes, none after the reader unfollowed."""

from __future__ import annotations

import uuid
from datetime import timedelta
from types import SimpleNamespace

from athenaeum.catalog.v1 import catalog_pb2
from athenaeum.catalog.v1 import events_pb2 as catalog_events
from services.notifications.app.following import UnfollowAuthor, unfollow_author
from services.notifications.app.projection import StatusSeen, apply_status
from services.notifications.app.querying import Viewer
from services.notifications.app.reminders import send_due_reminders
from services.notifications.domain.follows import FollowedAuthor
from services.notifications.domain.kinds import Channel
from services.notifications.domain.recipients import AccountStatus
from services.notifications.domain.wording import Titles
from services.support.runtime.wire import timestamp

from .conftest import NOON, RULES
from .fakes import recipient
from .test_new_book_announcements import handler

HOUR_END = NOON + timedelta(hours=1)


def created(title: str, *, minutes: int = 0, event_id: str = "", book: str = "") -> SimpleNamespace:
    event = catalog_events.BookCreated(
        event_id=event_id or str(uuid.uuid4()),
        occur_time=timestamp(NOON + timedelta(minutes=minutes)),
        book=catalog_pb2.Book(name=book or f"books/{uuid.uuid4()}", title=title, authors=["Булгаков, Михаил"]),
    )
    return SimpleNamespace(subject="athenaeum.catalog.book_created.v1", data=event.SerializeToString(), headers={})


def reader(db, **fields) -> tuple[object, FollowedAuthor]:
    person = recipient(sms_opt_in=False, **fields)
    db.recipients[person.user_id] = person
    follow = FollowedAuthor.follow(person.user_id, "Булгаков", now=NOON)
    db.follows[follow.id] = follow
    return person, follow


async def hour_ends(db, clock, renderer) -> None:
    clock.advance(HOUR_END - clock.now())
    await send_due_reminders(limit=100, uow=db.unit_of_work(), clock=clock, renderer=renderer, rules=RULES)


def subjects(db) -> list[str]:
    return [n.content.subject for n in sorted(db.notifications.values(), key=lambda n: n.created_at)]


def test_a_digest_names_its_first_titles_and_counts_the_rest_in_english_and_russian() -> None:
    assert Titles(("A", "B")).words("en") == "“A” and “B”"
    assert Titles(("A", "B", "C")).words("ru") == "«A», «B» и «C»"
    assert Titles(tuple("ABCDEFG"), shown=5).words("en") == "“A”, “B”, “C”, “D”, “E” and 2 more"
    assert Titles(tuple("ABCDEFG"), shown=5).words("ru") == "«A», «B», «C», «D», «E» и ещё 2"


async def test_the_later_books_of_the_hour_are_told_in_one_digest_when_the_hour_ends(
    db, clock, renderer, catalog
) -> None:
    ada, _ = reader(db)
    announce = handler(db, clock, renderer, catalog)
    for minutes, title in ((5, "Белая гвардия"), (20, "Морфий"), (35, "Бег"), (50, "Театральный роман")):
        await announce(created(title, minutes=minutes))
    assert subjects(db) == ["New from Булгаков, Михаил: “Белая гвардия”"]  # one mail at once, not four

    clock.advance(timedelta(minutes=59))
    await send_due_reminders(limit=100, uow=db.unit_of_work(), clock=clock, renderer=renderer, rules=RULES)
    assert len(db.notifications) == 1  # the hour has not ended yet
    await hour_ends(db, clock, renderer)
    _, digest = sorted(db.notifications.values(), key=lambda n: n.created_at)
    assert (digest.recipient_id, digest.channel) == (ada.user_id, Channel.EMAIL)
    assert digest.content.subject == "3 more new books by Булгаков, Михаил"
    assert "have come to the library: “Морфий”, “Бег” and “Театральный роман”." in digest.content.text
    assert "http://localhost:8080/#/?q=%D0%91%D1%83%D0%BB" in digest.content.text  # the author's search
    await hour_ends(db, clock, renderer)
    assert len(db.notifications) == 2  # told once


async def test_a_second_book_of_the_hour_is_told_alone_at_its_end_and_in_russian(db, clock, renderer, catalog) -> None:
    reader(db, locale="ru")
    announce = handler(db, clock, renderer, catalog)
    await announce(created("Белая гвардия", minutes=5))
    await announce(created("Морфий", minutes=50))
    await hour_ends(db, clock, renderer)
    assert subjects(db) == ["Новинка: Булгаков, Михаил, «Белая гвардия»", "Новинка: Булгаков, Михаил, «Морфий»"]


async def test_a_russian_digest_of_an_import_names_five_titles_and_counts_the_rest(
    db, clock, renderer, catalog
) -> None:
    reader(db, locale="ru")
    announce = handler(db, clock, renderer, catalog)
    for number in range(40):
        await announce(created(f"Рассказ {number}", minutes=number))
    await hour_ends(db, clock, renderer)
    _, digest = sorted(db.notifications.values(), key=lambda n: n.created_at)
    assert digest.content.subject == "Ещё новые книги (39): Булгаков, Михаил"
    assert "«Рассказ 1», «Рассказ 2», «Рассказ 3», «Рассказ 4», «Рассказ 5» и ещё 34." in digest.content.text


async def test_a_redelivered_event_adds_its_book_to_the_digest_once_and_the_first_book_never(
    db, clock, renderer, catalog
) -> None:
    reader(db)
    announce = handler(db, clock, renderer, catalog)
    first, second, third = (created(title, minutes=m) for title, m in (("Бег", 5), ("Морфий", 10), ("Дни", 15)))
    for event in (first, second, third, second, first, third):
        await announce(event)
    await hour_ends(db, clock, renderer)
    assert subjects(db) == ["New from Булгаков, Михаил: “Бег”", "2 more new books by Булгаков, Михаил"]
    (digest,) = [n for n in db.notifications.values() if n.params["book_titles"]]
    assert digest.params["book_titles"] == "“Морфий” and “Дни”" and digest.params["book_count"] == "2"


async def test_a_reader_who_unfollows_before_the_hour_ends_gets_no_digest(db, clock, renderer, catalog) -> None:
    ada, follow = reader(db)
    announce = handler(db, clock, renderer, catalog)
    await announce(created("Бег", minutes=5))
    await announce(created("Морфий", minutes=10))
    viewer = Viewer(f"users/{ada.user_id}", is_staff=False)
    await unfollow_author(UnfollowAuthor(ada.user_id, follow.id, viewer), uow=db.unit_of_work())
    await hour_ends(db, clock, renderer)
    assert subjects(db) == ["New from Булгаков, Михаил: “Бег”"]


async def test_a_closed_account_loses_the_digest_gathered_for_it(db, clock, renderer, catalog) -> None:
    ada, _ = reader(db)
    announce = handler(db, clock, renderer, catalog)
    await announce(created("Бег", minutes=5))
    await announce(created("Морфий", minutes=10))
    assert len(db.reminders) == 1
    await apply_status(StatusSeen(ada.user_id, AccountStatus.DEACTIVATED, NOON), uow=db.unit_of_work())
    assert db.reminders == {}
