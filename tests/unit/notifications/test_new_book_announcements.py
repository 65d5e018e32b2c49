# ruff: noqa: RUF001  (Cyrillic initials on purpose)
"""A book added to the catalog is announced to the readers who follow one of its authors: once per reader,
however often the event comes, by the reader's channels and choices, never to a blocked or closed account."""

from __future__ import annotations

import json
import uuid
from dataclasses import replace
from datetime import timedelta
from types import SimpleNamespace

from google.protobuf import field_mask_pb2

from athenaeum.catalog.v1 import catalog_pb2
from athenaeum.catalog.v1 import events_pb2 as catalog_events
from services.notifications.api.batching import GroupCommit
from services.notifications.api.consumers import CatalogHandler
from services.notifications.app.notifying import take_in
from services.notifications.app.projection import StatusSeen, apply_status
from services.notifications.domain.follows import FollowedAuthor
from services.notifications.domain.kinds import Channel, Kind
from services.notifications.domain.recipients import AccountStatus, ChannelChoice, route_now
from services.support.runtime.wire import timestamp

from .conftest import NOON, RULES
from .fakes import recipient

BOOK_ID = uuid.uuid4()


def book_created(*authors: str, event_id: uuid.UUID | None = None, title: str = "The White Guard") -> SimpleNamespace:
    event = catalog_events.BookCreated(
        event_id=str(event_id or uuid.uuid4()),
        occur_time=timestamp(NOON),
        book=catalog_pb2.Book(name=f"books/{BOOK_ID}", title=title, authors=list(authors)),
    )
    return SimpleNamespace(subject="athenaeum.catalog.book_created.v1", data=event.SerializeToString(), headers={})


def follows(db, person, *authors: str) -> None:
    for author in authors:
        follow = FollowedAuthor.follow(person.user_id, author, now=NOON)
        db.follows[follow.id] = follow


def handler(db, clock, renderer, catalog, rules=RULES) -> CatalogHandler:
    async def take(intakes):
        taken = await take_in(
            intakes, uow=db.unit_of_work(), clock=clock, renderer=renderer, catalog=catalog, rules=rules
        )
        return [taken] * len(intakes)

    return CatalogHandler(None, GroupCommit(take, max_size=16), uow=db.unit_of_work)  # type: ignore[arg-type]


async def test_each_follower_of_an_author_is_told_once_with_the_title_and_a_link(db, clock, renderer, catalog) -> None:
    ada, bob, eve = recipient(sms_opt_in=False), recipient(sms_opt_in=False), recipient(sms_opt_in=False)
    for person in (ada, bob, eve):
        db.recipients[person.user_id] = person
    follows(db, ada, "Булгаков, Михаил")
    follows(db, bob, "михаил булгаков", "Ilf Ilya")  # two of the book's authors: one notice all the same
    follows(db, eve, "Lev Tolstoy")
    await handler(db, clock, renderer, catalog)(book_created("Михаил Булгаков", "Ilya Ilf"))
    told = {n.recipient_id: n for n in db.notifications.values()}
    assert set(told) == {ada.user_id, bob.user_id}
    mail = told[ada.user_id]
    assert (mail.kind, mail.channel) == (Kind.NEW_BOOK_BY_AUTHOR, Channel.EMAIL)
    assert mail.content.subject == "New from Михаил Булгаков: “The White Guard”"
    assert f"http://localhost:8080/#/books/{BOOK_ID}" in mail.content.text
    assert "Михаил Булгаков; Ilya Ilf" in mail.content.text  # "; " between people: a heading has a comma


async def test_a_redelivered_event_tells_nobody_twice(db, clock, renderer, catalog) -> None:
    ada = recipient()
    db.recipients[ada.user_id] = ada
    follows(db, ada, "Mikhail Bulgakov")
    event = book_created("Bulgakov, Mikhail")
    announce = handler(db, clock, renderer, catalog)
    await announce(event)
    await announce(event)
    assert sorted(n.channel.value for n in db.notifications.values()) == ["email", "sms"]


async def test_a_book_nobody_follows_the_authors_of_tells_nobody(db, clock, renderer, catalog) -> None:
    ada = recipient()
    db.recipients[ada.user_id] = ada
    follows(db, ada, "Mikhail Bulgakov")
    await handler(db, clock, renderer, catalog)(book_created("Anna Akhmatova"))
    await handler(db, clock, renderer, catalog)(book_created())
    assert db.notifications == {} and db.commits == 0


async def test_a_blocked_reader_and_one_who_turned_the_kind_off_get_no_announcement(
    db, clock, renderer, catalog
) -> None:
    blocked = recipient(status=AccountStatus.BLOCKED)
    off = recipient(kinds={Kind.NEW_BOOK_BY_AUTHOR.value: ChannelChoice(email=False, sms=False)})
    for person in (blocked, off):
        db.recipients[person.user_id] = person
        follows(db, person, "Mikhail Bulgakov")
    await handler(db, clock, renderer, catalog)(book_created("Mikhail Bulgakov"))
    assert db.notifications == {}


async def test_a_closed_account_follows_nobody_any_more(db, clock, renderer, catalog) -> None:
    ada, bob = recipient(), recipient()
    for person in (ada, bob):
        db.recipients[person.user_id] = person
        follows(db, person, "Mikhail Bulgakov")
    await apply_status(StatusSeen(ada.user_id, AccountStatus.DEACTIVATED, NOON), uow=db.unit_of_work())
    assert [f.user_id for f in db.follows.values()] == [bob.user_id]
    await handler(db, clock, renderer, catalog)(book_created("Mikhail Bulgakov"))
    assert {n.recipient_id for n in db.notifications.values()} == {bob.user_id}


async def test_a_russian_reader_is_told_in_russian_and_without_a_link_when_there_is_no_web_url(
    db, clock, renderer, catalog
) -> None:
    ada = recipient(locale="ru", sms_opt_in=False)
    db.recipients[ada.user_id] = ada
    follows(db, ada, "Михаил Булгаков")
    await handler(db, clock, renderer, catalog, replace(RULES, web_url=""))(book_created("Булгаков Михаил"))
    (mail,) = db.notifications.values()
    assert mail.content.subject == "Новинка: Булгаков Михаил, «The White Guard»"
    assert "/#/books/" not in mail.content.text
    assert "подписались на новые книги этого автора (Булгаков Михаил)" in mail.content.text


async def test_a_book_created_event_that_does_not_decode_is_dead_lettered(db, clock, renderer, catalog) -> None:
    published = []

    class Link:
        def jetstream(self):
            return SimpleNamespace(publish=lambda *args, **kwargs: _record(published, args))

    announce = CatalogHandler(Link(), None, uow=db.unit_of_work)  # type: ignore[arg-type]
    await announce(SimpleNamespace(subject="athenaeum.catalog.book_created.v1", data=b"\xff\xff", headers={}))
    assert [subject for subject, _ in published] == ["athenaeum.dlq.notifications-catalog"]


async def _record(published: list, args: tuple) -> None:
    published.append(args)


def test_an_announcement_waiting_when_the_account_is_blocked_is_not_sent() -> None:
    blocked = recipient(status=AccountStatus.BLOCKED)
    route = route_now(blocked, Kind.NEW_BOOK_BY_AUTHOR, Channel.EMAIL, by_system=True)
    assert route.suppress_reason == "the account is blocked"
    assert not route_now(blocked, Kind.HOLD_READY, Channel.EMAIL, by_system=True).suppress_reason  # news only


def book_updated(authors: list[str], *, before: list[str] | None, paths: tuple[str, ...] = ("authors",)):
    event = catalog_events.BookUpdated(
        event_id=str(uuid.uuid4()),
        occur_time=timestamp(NOON),
        book=catalog_pb2.Book(name=f"books/{BOOK_ID}", title="Сборник", authors=authors),
        update_mask=field_mask_pb2.FieldMask(paths=list(paths)),
        previous_values={} if before is None else {"authors": json.dumps(before, ensure_ascii=False)},
    )
    return SimpleNamespace(subject="athenaeum.catalog.book_updated.v1", data=event.SerializeToString(), headers={})


async def test_an_author_added_to_a_book_is_announced_to_their_followers_once(db, clock, renderer, catalog) -> None:
    first, second = recipient(sms_opt_in=False), recipient(sms_opt_in=False)
    for person, author in ((first, "Первый Автор"), (second, "Соавтор Второй")):
        db.recipients[person.user_id] = person
        follows(db, person, author)
    announce = handler(db, clock, renderer, catalog)
    await announce(book_created("Первый Автор", title="Сборник"))
    await announce(book_updated(["Первый Автор", "Второй Соавтор"], before=["Первый Автор"]))
    await announce(book_updated(["Первый Автор"], before=["Первый Автор", "Второй Соавтор"]))
    await announce(book_updated(["Первый Автор", "Второй С."], before=["Первый Автор"]))  # back again
    await announce(book_updated(["Первый Автор", "Второй Соавтор"], before=None))  # what it had: unknown
    told = sorted((n.recipient_id == first.user_id, n.content.subject) for n in db.notifications.values())
    assert told == [(False, "New from Второй Соавтор: “Сборник”"), (True, "New from Первый Автор: “Сборник”")]


async def test_an_edit_of_anything_but_the_authors_is_announced_to_nobody(db, clock, renderer, catalog) -> None:
    ada = recipient()
    db.recipients[ada.user_id] = ada
    follows(db, ada, "Первый Автор")
    await handler(db, clock, renderer, catalog)(book_updated(["Первый Автор"], before=None, paths=("title",)))
    assert db.notifications == {}


async def test_an_import_of_many_books_by_a_followed_author_makes_one_mail_an_hour(
    db, clock, renderer, catalog
) -> None:
    ada = recipient(sms_opt_in=False)
    db.recipients[ada.user_id] = ada
    follows(db, ada, "Дарья Донцова")
    announce = handler(db, clock, renderer, catalog)
    for number in range(40):
        await announce(book_created("Донцова, Дарья", "Иванов, Пётр", title=f"Детектив номер {number}"))
    assert len(db.notifications) == 1
    later = catalog_events.BookCreated.FromString(book_created("Донцова, Дарья").data)
    later.occur_time.CopyFrom(timestamp(NOON + timedelta(hours=1)))
    await announce(
        SimpleNamespace(subject="athenaeum.catalog.book_created.v1", data=later.SerializeToString(), headers={})
    )
    assert len(db.notifications) == 2  # the next hour's book is told
