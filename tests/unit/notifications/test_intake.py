"""Taking events in: zero or more notifications per event, once, worded for the recipient."""

from __future__ import annotations

import uuid
from datetime import timedelta

from services.notifications.app import reminders
from services.notifications.app.notifying import take_in
from services.notifications.domain.kinds import Channel, Kind
from services.notifications.domain.notifications import Status
from services.notifications.domain.occurrences import Intake, Occurrence, hold_expiry_reminder, reminder_step_key
from services.notifications.domain.templates import Template
from services.support.runtime.clock import FixedClock

from .conftest import NOON, RULES
from .fake_notification_repositories import FakeTemplates
from .fake_peers import BrokenRenderer, FakeCatalog
from .fakes import recipient

DEADLINE = NOON + timedelta(days=3)


def hold_ready(person, *, event_id=None, book="books/b1") -> Intake:
    ready = Occurrence(
        event_id=event_id or uuid.uuid4(), occurred_at=NOON, kind=Kind.HOLD_READY, recipient_id=person.user_id,
        facts={"branch": "main", "pickup_deadline": DEADLINE}, book=book,
    )  # fmt: skip
    schedule = hold_expiry_reminder(
        ready, hold="holds/h1", expires_at=DEADLINE, notice=RULES.hold_expiry_notice, now=NOON
    )
    return Intake(ready.event_id, occurrences=(ready,), schedule=schedule)


def overdue(person, step: int, *, event_id=None) -> Intake:
    key = reminder_step_key("loans/l1", Kind.OVERDUE, NOON - timedelta(days=10), step)
    occurrence = Occurrence(
        event_id=event_id or uuid.uuid4(), occurred_at=NOON, kind=Kind.OVERDUE, recipient_id=person.user_id,
        facts={"book_title": "Dead Souls", "due_date": NOON - timedelta(days=10), "overdue_days": 10}, step_key=key,
    )  # fmt: skip
    return Intake(occurrence.event_id, occurrences=(occurrence,))


async def _take(db, clock, renderer, catalog, *intakes):
    return await take_in(
        list(intakes), uow=db.unit_of_work(), clock=clock, renderer=renderer, catalog=catalog, rules=RULES
    )


async def test_a_ready_hold_is_told_by_email_and_sms_naming_the_book_branch_and_deadline(
    db, clock, renderer, catalog
) -> None:
    ada = recipient()
    db.recipients[ada.user_id] = ada
    taken = await _take(db, clock, renderer, catalog, hold_ready(ada))
    email, sms = sorted(taken.queued, key=lambda n: n.channel.value)
    assert (email.channel, sms.channel) == (Channel.EMAIL, Channel.SMS)
    assert email.content.subject == "“The Master and Margarita” is waiting for you"
    for text in (email.content.text, email.content.html, sms.content.text):
        assert "The Master and Margarita" in text and "main" in text and "Tuesday, 17 March 2026, 12:00 UTC" in text
    assert email.status == sms.status == Status.QUEUED and email.content.template_version == 1


async def test_a_redelivered_event_queues_nothing_more(db, clock, renderer, catalog) -> None:
    ada = recipient()
    db.recipients[ada.user_id] = ada
    event = hold_ready(ada)
    await _take(db, clock, renderer, catalog, event)
    again = await _take(db, clock, renderer, catalog, event)
    assert again.queued == [] and len(db.notifications) == 2


async def test_a_schedule_step_is_told_once_whatever_events_announce_it(db, clock, renderer, catalog) -> None:
    ada = recipient(sms_opt_in=False)
    db.recipients[ada.user_id] = ada
    first = await _take(db, clock, renderer, catalog, overdue(ada, 1), overdue(ada, 1))  # two announcements, one batch
    later = await _take(db, clock, renderer, catalog, overdue(ada, 1))  # and another, from a restarted reconciler
    second_step = await _take(db, clock, renderer, catalog, overdue(ada, 2))
    assert (len(first.queued), first.told_before, len(later.queued), len(second_step.queued)) == (1, 1, 0, 1)


async def test_an_event_about_someone_unknown_waits_and_changes_nothing(db, clock, renderer, catalog) -> None:
    stranger = recipient()
    taken = await _take(db, clock, renderer, catalog, overdue(stranger, 1))
    assert taken.waiting == {taken_id for taken_id in taken.waiting} and len(taken.waiting) == 1
    assert db.notifications == {} and db.step_keys == set()  # the step is told when the recipient is known


async def test_an_sms_at_night_waits_for_the_morning_in_the_recipients_zone(db, renderer, catalog) -> None:
    ada = recipient(time_zone="Asia/Vladivostok")  # noon UTC is 22:00 there
    db.recipients[ada.user_id] = ada
    taken = await _take(db, FixedClock(NOON), renderer, catalog, overdue(ada, 1))
    sms = next(n for n in taken.queued if n.channel == Channel.SMS)
    assert sms.status == Status.QUEUED and sms.next_attempt_at == NOON + timedelta(hours=10)


async def test_russian_readers_get_russian_words_and_others_fall_back_to_english(db, clock, renderer, catalog) -> None:
    ivan, jean = recipient(locale="ru", time_zone="Europe/Moscow"), recipient(locale="fr")
    db.recipients.update({ivan.user_id: ivan, jean.user_id: jean})
    taken = await _take(db, clock, renderer, catalog, hold_ready(ivan), hold_ready(jean))
    words = {(n.recipient_id, n.channel): n.content for n in taken.queued}
    assert words[(ivan.user_id, Channel.EMAIL)].subject == "Книга ждёт вас: «The Master and Margarita»"
    assert "до 17 марта 2026 (вт), 15:00 MSK" in words[(ivan.user_id, Channel.SMS)].text
    assert words[(jean.user_id, Channel.EMAIL)].locale == "en"


async def test_a_stored_template_that_cannot_render_gives_way_to_the_built_in_one(db, clock, catalog) -> None:
    ada = recipient(sms_opt_in=False)
    db.recipients[ada.user_id] = ada
    stored = db.templates["hold_ready_email_en"]
    db.templates[stored.id] = Template(stored.kind, stored.channel, "en", "x", "x", "", 2, NOON)
    taken = await _take(db, clock, BrokenRenderer("hold_ready_email_en"), catalog, hold_ready(ada))
    (email,) = taken.queued
    assert email.content.template_version == 1 and "The Master and Margarita" in email.content.subject


async def test_a_title_missing_from_a_hold_event_is_asked_of_the_catalog(db, clock, renderer) -> None:
    ada = recipient(sms_opt_in=False)
    db.recipients[ada.user_id] = ada
    catalog = FakeCatalog({"books/b2": "Dead Souls"})
    taken = await _take(db, clock, renderer, catalog, hold_ready(ada, book="books/b2"))
    assert catalog.asked == ["books/b2"] and "Dead Souls" in taken.queued[0].content.subject


async def test_a_hold_not_picked_up_is_reminded_before_its_deadline_unless_it_ends_first(db, renderer, catalog) -> None:
    ada, bob = recipient(sms_opt_in=False), recipient(sms_opt_in=False)
    db.recipients.update({ada.user_id: ada, bob.user_id: bob})
    clock = FixedClock(NOON)
    await _take(db, clock, renderer, catalog, hold_ready(ada))
    clock.advance(timedelta(days=2, hours=1))  # a day before the deadline
    reminded = await reminders.send_due_reminders(
        limit=10, uow=db.unit_of_work(), clock=clock, renderer=renderer, rules=RULES
    )
    assert [n.kind for n in reminded.queued] == [Kind.HOLD_EXPIRING]
    assert "Last chance" in reminded.queued[0].content.subject and db.reminders == {}
    again = await reminders.send_due_reminders(
        limit=10, uow=db.unit_of_work(), clock=clock, renderer=renderer, rules=RULES
    )
    assert again.queued == []


async def test_a_hold_that_ends_cancels_its_reminder(db, clock, renderer, catalog) -> None:
    ada = recipient(sms_opt_in=False)
    db.recipients[ada.user_id] = ada
    await _take(db, clock, renderer, catalog, hold_ready(ada))
    await _take(db, clock, renderer, catalog, Intake(uuid.uuid4(), cancel=("holds/h1",)))
    assert db.reminders == {}


async def test_an_event_that_tells_nobody_anything_reads_no_template(db, clock, renderer, catalog, monkeypatch) -> None:
    """A loan receipt nobody asked for: no notification, and the templates (a query per batch) are not read."""
    ada = recipient()
    db.recipients[ada.user_id] = ada
    issued = Occurrence(
        event_id=uuid.uuid4(), occurred_at=NOON, kind=Kind.LOAN_ISSUED, recipient_id=ada.user_id,
        facts={"book_title": "Dead Souls", "due_date": DEADLINE},
    )  # fmt: skip
    read: list[int] = []

    async def counted(self):  # type: ignore[no-untyped-def]
        read.append(1)
        return dict(self._rows)

    monkeypatch.setattr(FakeTemplates, "current", counted)
    taken = await _take(db, clock, renderer, catalog, Intake(issued.event_id, occurrences=(issued,)))
    assert taken.queued == [] and not db.notifications and not read
    await _take(db, clock, renderer, catalog, hold_ready(ada))  # one that tells: read once
    assert len(read) == 1


def receipt(person) -> Occurrence:
    facts = {"book_title": "Dead Souls", "due_date": DEADLINE}
    return Occurrence(uuid.uuid4(), NOON, Kind.LOAN_ISSUED, recipient_id=person.user_id, facts=facts)


async def test_a_batch_that_tells_nobody_and_schedules_nothing_commits_no_transaction(
    db, clock, renderer, catalog
) -> None:
    """Most loan events: a receipt nobody asked for, and one about someone not known here yet (it waits)."""
    ada, stranger = recipient(), recipient()
    db.recipients[ada.user_id] = ada
    receipts = [receipt(person) for person in (ada, stranger)]
    taken = await _take(db, clock, renderer, catalog, *(Intake(o.event_id, occurrences=(o,)) for o in receipts))
    assert taken.queued == [] and taken.waiting == {receipts[1].event_id} and db.commits == 0
    await _take(db, clock, renderer, catalog, overdue(ada, 1))  # a step to claim: one transaction
    assert db.commits == 1 and db.notifications
