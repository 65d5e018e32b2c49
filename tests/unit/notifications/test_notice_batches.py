"""One message per reader (finding N5): a reader's loan notices of one kind and channel, made within the batch
window, go out as one letter and one SMS listing the books; each notice keeps its row, SENT with the same
Message-ID. Notices of two readers or two kinds are never merged; one made after the window goes in the next."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import replace
from datetime import timedelta

import pytest

from services.notifications.api.workers import Dispatcher, DispatchSettings
from services.notifications.app import delivering
from services.notifications.app.batching import BatchWriter
from services.notifications.app.notifying import take_in
from services.notifications.data.batch_seeds import BATCH_TEMPLATES
from services.notifications.domain.batches import MAX_BATCH, batch_id, batches, books
from services.notifications.domain.delivery import Outcome, Sent
from services.notifications.domain.kinds import Channel, Kind
from services.notifications.domain.notifications import Notification, Status
from services.notifications.domain.occurrences import Intake, Occurrence
from services.notifications.domain.sms_text import segments

from .conftest import NOON, RULES
from .fakes import recipient

WINDOW = timedelta(seconds=60)
BATCHED = replace(RULES, batch_window=WINDOW)
LEASE = timedelta(seconds=30)


def loan_notice(person, kind: Kind = Kind.LOAN_RENEWED, *, title: str = "Dead Souls", at=NOON, barcode: str = "",
                due=NOON + timedelta(days=14), was=NOON) -> Intake:  # fmt: skip
    """A notice of a loan of its own (a copy of its own) unless `barcode` names one told of before."""
    occurrence = Occurrence(
        event_id=uuid.uuid4(), occurred_at=at, kind=kind, recipient_id=person.user_id,
        facts={"book_title": title, "barcode": barcode or f"B{uuid.uuid4().hex[:8]}", "due_date": due,
               "previous_due_date": was, "overdue_days": 3},
    )  # fmt: skip
    return Intake(occurrence.event_id, occurrences=(occurrence,))


async def _tell(db, clock, renderer, catalog, *intakes: Intake) -> list[Notification]:
    taken = await take_in(list(intakes), uow=db.unit_of_work(), clock=clock, renderer=renderer, catalog=catalog,
                          rules=BATCHED)  # fmt: skip
    return taken.queued


def _person(db, **fields):
    person = recipient(**fields)
    db.recipients[person.user_id] = person
    return person


def _texts(db) -> list[Notification]:
    return [n for n in db.notifications.values() if n.channel == Channel.SMS]


class Channelled:
    """A channel that accepts everything and keeps what it was given."""

    def __init__(self) -> None:
        self.sent: list[Notification] = []

    async def send(self, notification: Notification) -> Outcome:
        self.sent.append(notification)
        return Sent(f"<{notification.id}@test>")

    async def probe(self) -> None:
        return None


async def _deliver(db, clock, renderer, channel: Channel, *, expected: int) -> Channelled:
    """Runs the channel's dispatcher (with the batch writer) until `expected` notifications are recorded."""
    sender = Channelled()
    writer = BatchWriter(BATCH_TEMPLATES, renderer, max_segments=BATCHED.sms.max_segments)
    settings = DispatchSettings(worker="w1", concurrency=8, poll_seconds=0.01)
    dispatcher = Dispatcher(channel, sender, uow=db.unit_of_work, clock=clock, rules=BATCHED, settings=settings,
                            writer=writer)  # fmt: skip
    running = asyncio.create_task(dispatcher.run())

    def recorded() -> int:
        return sum(n.status != Status.QUEUED for n in db.notifications.values() if n.channel == channel)

    try:
        async with asyncio.timeout(10):
            while recorded() < expected:  # noqa: ASYNC110 (the fake database has nothing to wait on)
                await asyncio.sleep(0.005)
            await asyncio.sleep(0.05)  # time enough for a wrong extra send
    finally:
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)
    return sender


def test_russian_counts_of_books_take_the_right_form() -> None:
    forms = {n: books(n, "ru") for n in (1, 2, 4, 5, 11, 12, 14, 21, 22, 25, 101, 111, 112)}
    assert forms == {
        1: "1 книга", 2: "2 книги", 4: "4 книги", 5: "5 книг", 11: "11 книг", 12: "12 книг", 14: "14 книг",
        21: "21 книга", 22: "22 книги", 25: "25 книг", 101: "101 книга", 111: "111 книг", 112: "112 книг",
    }  # fmt: skip
    assert (books(1, "en"), books(3, "en")) == ("1 book", "3 books")


async def test_a_readers_notices_are_grouped_by_kind_and_channel_and_never_merged_across_readers(
    db, clock, renderer, catalog
) -> None:
    ada, bob = _person(db), _person(db, email="bob@example.org", phone="+79990000002")
    queued = await _tell(db, clock, renderer, catalog, *(loan_notice(ada) for _ in range(3)),
                         loan_notice(ada, Kind.OVERDUE), *(loan_notice(bob) for _ in range(2)))  # fmt: skip
    groups = batches(queued)
    shapes = sorted((g[0].recipient_id == ada.user_id, g[0].kind, g[0].channel, len(g)) for g in groups)
    assert shapes == sorted([
        (True, Kind.LOAN_RENEWED, Channel.EMAIL, 3), (True, Kind.LOAN_RENEWED, Channel.SMS, 3),
        (True, Kind.OVERDUE, Channel.EMAIL, 1), (True, Kind.OVERDUE, Channel.SMS, 1),
        (False, Kind.LOAN_RENEWED, Channel.EMAIL, 2), (False, Kind.LOAN_RENEWED, Channel.SMS, 2),
    ])  # fmt: skip


async def test_a_batch_is_capped_and_its_id_depends_on_its_notices_only(db, clock, renderer, catalog) -> None:
    ada = _person(db, sms_opt_in=False)
    queued = await _tell(db, clock, renderer, catalog, *(loan_notice(ada) for _ in range(MAX_BATCH + 5)))
    assert sorted(len(g) for g in batches(queued)) == [5, MAX_BATCH]
    first = batches(queued)[0]
    assert batch_id(first) == batch_id(list(reversed(first)))  # a resend after a crash: the same Message-ID
    assert batch_id(first[:-1]) != batch_id(first)  # a notice more: another message
    assert batch_id(first[:1]) == first[0].id  # alone, a notice is sent under its own id


async def test_a_batch_letter_names_every_book_in_english_and_in_russian(db, clock, renderer, catalog) -> None:
    writer = BatchWriter(BATCH_TEMPLATES, renderer)
    ada, ivan = _person(db, sms_opt_in=False), _person(db, sms_opt_in=False, locale="ru")
    titles = ["Dune", "Solaris", "<script>alert(1)</script>"]
    english = await _tell(db, clock, renderer, catalog, *(loan_notice(ada, title=t) for t in titles))
    russian = await _tell(db, clock, renderer, catalog, *(loan_notice(ivan, title=t) for t in titles[:2] * 3))
    letter = writer.message(batches(english)[0])
    assert letter.content.subject == "3 books renewed"
    assert all(f"“{title}”, now due" in letter.content.text for title in titles)
    assert "<script>" not in letter.content.html and "&lt;script&gt;" in letter.content.html
    assert letter.id == batch_id(batches(english)[0]) and letter.id not in {n.id for n in english}
    письмо = writer.message(batches(russian)[0])
    assert письмо.content.subject == "Продление: 6 книг"
    assert письмо.content.text.count("«Dune», теперь до") == 3


async def test_an_sms_of_many_long_titles_names_the_count_and_stays_within_its_segments(
    db, clock, renderer, catalog
) -> None:
    ada = _person(db, email="")
    long_titles = [f"The Complete and Unabridged Chronicles of Volume {i}, with Notes" for i in range(20)]
    queued = await _tell(db, clock, renderer, catalog, *(loan_notice(ada, title=t) for t in long_titles))
    (texts,) = [g for g in batches(queued) if g[0].channel == Channel.SMS]
    sms = BatchWriter(BATCH_TEMPLATES, renderer, max_segments=2).message(texts)
    assert sms.content.text.startswith("Test Library: 20 books renewed")
    assert "and 17 more." in sms.content.text and "Unabridged Chronicles" in sms.content.text
    assert segments(sms.content.text) <= 2


async def test_twenty_renewals_go_out_as_one_letter_and_one_sms_and_every_row_is_sent(
    db, clock, renderer, catalog
) -> None:
    ada = _person(db)
    titles = [f"Book {i}" for i in range(20)]
    queued = await _tell(db, clock, renderer, catalog, *(loan_notice(ada, title=t) for t in titles))
    assert {n.next_attempt_at for n in queued} == {NOON + WINDOW}  # each waits for the others
    clock.advance(WINDOW)
    letters = await _deliver(db, clock, renderer, Channel.EMAIL, expected=20)
    texts = await _deliver(db, clock, renderer, Channel.SMS, expected=20)
    assert len(letters.sent) == 1 and len(texts.sent) == 1
    assert all(f"“{title}”" in letters.sent[0].content.text for title in titles)
    assert texts.sent[0].content.text.startswith("Test Library: 20 books renewed")
    for channel, sender in ((Channel.EMAIL, letters), (Channel.SMS, texts)):
        rows = [n for n in db.notifications.values() if n.channel == channel]
        assert [n.status for n in rows] == [Status.SENT] * 20
        assert {n.provider_message_id for n in rows} == {f"<{sender.sent[0].id}@test>"}
        assert {n.attempts for n in rows} == {1}


async def test_a_batch_sms_counts_once_against_the_hourly_limit(db, clock, renderer, catalog) -> None:
    ada = _person(db, email="")
    for _ in range(BATCHED.sms.max_per_hour):  # the limit: two SMS of twenty renewals each
        await _tell(db, clock, renderer, catalog, *(loan_notice(ada) for _ in range(20)))
        clock.advance(WINDOW)
        await _deliver(db, clock, renderer, Channel.SMS, expected=len(_texts(db)))
        clock.advance(WINDOW)
    await _tell(db, clock, renderer, catalog, *(loan_notice(ada) for _ in range(3)))
    clock.advance(WINDOW)
    claimed = await delivering.claim_due(delivering.ClaimDue(Channel.SMS, 10, "w2", LEASE),
                                         uow=db.unit_of_work(), clock=clock, rules=BATCHED)  # fmt: skip
    assert claimed == []  # two SMS sent this hour: the third waits for a slot, all three of its notices
    waiting = [n for n in _texts(db) if n.status == Status.QUEUED]
    assert len(waiting) == 3 and len({n.next_attempt_at for n in waiting}) == 1


async def test_a_notice_made_in_the_window_joins_and_one_made_after_it_goes_in_the_next_message(
    db, clock, renderer, catalog
) -> None:
    ada = _person(db, sms_opt_in=False)
    await _tell(db, clock, renderer, catalog, loan_notice(ada, title="First"))
    clock.advance(timedelta(seconds=30))
    await _tell(db, clock, renderer, catalog, loan_notice(ada, title="Within the window"))
    clock.advance(timedelta(seconds=30))  # the first is due; the second not for 30 s more: it goes with it
    first = await _deliver(db, clock, renderer, Channel.EMAIL, expected=2)
    clock.advance(timedelta(seconds=1))
    await _tell(db, clock, renderer, catalog, loan_notice(ada, title="Too late"))
    clock.advance(WINDOW)
    second = await _deliver(db, clock, renderer, Channel.EMAIL, expected=3)
    assert [m.content.subject for m in first.sent] == ["2 books renewed"]
    assert [m.content.subject for m in second.sent] == ["“Too late” renewed until Saturday, 28 March 2026, 12:00 UTC"]


async def test_without_a_window_every_notice_is_a_message_of_its_own(db, clock, renderer, catalog) -> None:
    ada = _person(db, sms_opt_in=False)
    taken = await take_in([loan_notice(ada) for _ in range(3)], uow=db.unit_of_work(), clock=clock,
                          renderer=renderer, catalog=catalog, rules=RULES)  # fmt: skip
    assert {n.next_attempt_at for n in taken.queued} == {NOON}
    assert delivering.batched(taken.queued, RULES) == [[n] for n in taken.queued]


@pytest.mark.parametrize("kind", [Kind.LOAN_ISSUED, Kind.DUE_SOON, Kind.OVERDUE])
async def test_every_batched_kind_has_its_words_in_both_languages(db, clock, renderer, catalog, kind) -> None:
    writer = BatchWriter(BATCH_TEMPLATES, renderer)
    for locale, count in (("en", "2 books"), ("ru", "2 книги")):
        person = _person(db, locale=locale)
        queued = await _tell(db, clock, renderer, catalog, *(loan_notice(person, kind, title=t) for t in "AB"))
        for members in batches(queued):
            message = writer.message(members)
            assert count in message.content.text and ("A" in message.content.text)
            assert message.content.template == f"{kind.value}_{members[0].channel.value}_{locale}"


async def test_a_batch_claimed_by_a_process_that_crashed_is_sent_again_under_the_same_id(
    db, clock, renderer, catalog
) -> None:
    ada = _person(db, sms_opt_in=False)
    await _tell(db, clock, renderer, catalog, *(loan_notice(ada, title=f"Book {i}") for i in range(4)))
    clock.advance(WINDOW)
    claimed = await delivering.claim_due(delivering.ClaimDue(Channel.EMAIL, 1, "w1", LEASE),
                                         uow=db.unit_of_work(), clock=clock, rules=BATCHED)  # fmt: skip
    assert len(claimed) == 4  # one due claimed, its three siblings with it
    (before_the_crash,) = delivering.batched(claimed, BATCHED)
    await delivering.release_claims("w1", uow=db.unit_of_work())  # w1 sent it, died, and was restarted
    again = await _deliver(db, clock, renderer, Channel.EMAIL, expected=4)
    assert [message.id for message in again.sent] == [batch_id(before_the_crash)]


async def test_a_book_renewed_twice_in_the_window_is_listed_and_counted_once_with_its_latest_due_date(
    db, clock, renderer, catalog
) -> None:
    ada = _person(db)
    weeks = [NOON + timedelta(days=14 * n) for n in range(3)]
    first = [loan_notice(ada, title=f"Book {i}", barcode=f"C{i}", was=weeks[0], due=weeks[1],
                         at=NOON + timedelta(seconds=i)) for i in range(5)]  # fmt: skip
    await _tell(db, clock, renderer, catalog, *first)
    clock.advance(timedelta(seconds=10))  # "Renew all" pressed again: the five once more, five more for the first time
    again = [loan_notice(ada, title=f"Book {i}", barcode=f"C{i}", was=weeks[1], due=weeks[2],
                         at=clock.now() + timedelta(seconds=i)) for i in range(5)]  # fmt: skip
    later = [loan_notice(ada, title=f"Book {i}", barcode=f"C{i}", was=weeks[0], due=weeks[1],
                         at=clock.now() + timedelta(seconds=i)) for i in range(5, 10)]  # fmt: skip
    await _tell(db, clock, renderer, catalog, *again, *later)
    clock.advance(WINDOW)
    letters = await _deliver(db, clock, renderer, Channel.EMAIL, expected=15)
    texts = await _deliver(db, clock, renderer, Channel.SMS, expected=15)
    (letter,), (sms,) = letters.sent, texts.sent
    assert letter.content.subject == "10 books renewed" and "These 10 books were renewed:" in letter.content.text
    assert sms.content.text.startswith("Test Library: 10 books renewed")
    lines = [line for line in letter.content.text.splitlines() if line.startswith("- ")]
    assert [line.split("”")[0] for line in lines] == [f"- “Book {i}" for i in range(10)]
    renewed_twice = lines[0]
    assert "now due Saturday, 11 April 2026" in renewed_twice and "(was Saturday, 14 March 2026" in renewed_twice
    for channel, sender in ((Channel.EMAIL, letters), (Channel.SMS, texts)):
        rows = [n for n in db.notifications.values() if n.channel == channel]
        assert [n.status for n in rows] == [Status.SENT] * 15
        assert {n.provider_message_id for n in rows} == {f"<{sender.sent[0].id}@test>"}


async def test_notices_of_one_loan_only_go_out_as_its_latest_notice_under_the_batch_id(
    db, clock, renderer, catalog
) -> None:
    ada = _person(db, sms_opt_in=False)
    later = NOON + timedelta(days=28)
    queued = await _tell(db, clock, renderer, catalog, loan_notice(ada, barcode="C1"),
                         loan_notice(ada, barcode="C1", due=later, at=NOON + timedelta(seconds=5)))  # fmt: skip
    (members,) = batches(queued)
    message = BatchWriter(BATCH_TEMPLATES, renderer).message(members)
    assert message.id == batch_id(members)
    assert message.content == members[-1].content and "Saturday, 11 April 2026" in message.content.subject


async def test_a_batch_sms_too_long_for_two_titles_names_one_whole_and_counts_the_other(
    db, clock, renderer, catalog
) -> None:
    ivan = _person(db, locale="ru", time_zone="Europe/Moscow")
    titles = [f"The Long and Winding Road of Title 22 {i}" for i in (1, 2)]
    queued = await _tell(
        db,
        clock,
        renderer,
        catalog,
        *(loan_notice(ivan, title=t, at=NOON + timedelta(seconds=i)) for i, t in enumerate(titles)),
    )
    (texts,) = [g for g in batches(queued) if g[0].channel == Channel.SMS]
    sms = BatchWriter(BATCH_TEMPLATES, renderer, max_segments=2).message(texts)
    assert sms.content.text.startswith("Test Library: продление (2 книги) до 28 марта 2026 ("), sms.content.text
    assert sms.content.text.endswith(": «The Long and Winding Road of Title 22 1» и ещё 1."), sms.content.text
    assert segments(sms.content.text) == 2
