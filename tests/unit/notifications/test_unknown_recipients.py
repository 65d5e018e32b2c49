"""Recipients the projection does not hold (it was made empty by an upgrade, or emptied, and the users stream
keeps a month): the users service is asked, its answer kept without overwriting a newer event's, and an event
about someone it has no account of is dropped rather than retried until it is dead-lettered."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from services.notifications.app import projection, reminders, sending
from services.notifications.app.notifying import take_in
from services.notifications.domain.kinds import Channel, Kind
from services.notifications.domain.notifications import Status
from services.notifications.domain.occurrences import hold_expiry_reminder
from services.notifications.domain.recipients import AccountStatus
from services.support.runtime.clock import FixedClock
from services.support.runtime.errors import DependencyUnavailable, FailedPrecondition

from .conftest import NOON, RULES
from .fake_peers import FakeUsers
from .fakes import recipient
from .test_intake import hold_ready, overdue


async def _take(db, clock, renderer, catalog, users, *intakes):
    return await take_in(
        list(intakes), uow=db.unit_of_work(), clock=clock, renderer=renderer, catalog=catalog, rules=RULES,
        accounts=users,
    )  # fmt: skip


async def test_an_event_about_an_account_the_projection_lacks_is_told_as_the_users_service_has_it(
    db, clock, renderer, catalog
) -> None:
    ada = recipient(sms_opt_in=False, version=4, status_at=NOON - timedelta(days=400))
    users = FakeUsers(ada)
    event = overdue(ada, 1)
    taken = await _take(db, clock, renderer, catalog, users, event)
    assert not taken.waiting and not taken.no_account
    assert [(n.channel, n.address, n.status) for n in taken.queued] == [(Channel.EMAIL, ada.email, Status.QUEUED)]
    assert db.recipients[ada.user_id] == ada  # kept: the next event needs no call
    await _take(db, clock, renderer, catalog, users, overdue(ada, 2))
    assert users.asked == [{ada.user_id}]


async def test_an_event_about_someone_without_an_account_is_dropped_not_retried(db, clock, renderer, catalog) -> None:
    ada, gone = recipient(version=1), recipient(version=1)
    db.recipients[ada.user_id] = ada
    told, dropped = overdue(ada, 1), hold_ready(gone)
    taken = await _take(db, clock, renderer, catalog, FakeUsers(), told, dropped)
    assert taken.no_account == {dropped.event_id} and not taken.waiting
    assert {n.recipient_id for n in db.notifications.values()} == {ada.user_id}
    assert db.reminders == {} and gone.user_id not in db.recipients


async def test_while_the_users_service_is_away_the_event_waits_as_before(db, clock, renderer, catalog) -> None:
    ada = recipient(version=1)
    users = FakeUsers(ada)
    users.down = True
    event = overdue(ada, 1)
    taken = await _take(db, clock, renderer, catalog, users, event)
    assert taken.waiting == {event.event_id} and not taken.no_account and db.notifications == {}
    users.down = False
    again = await _take(db, clock, renderer, catalog, users, event)  # the consumer's retry
    assert not again.waiting and len(again.queued) == 2


async def test_a_record_with_only_a_status_is_completed_keeping_the_later_status(db, clock, renderer, catalog) -> None:
    """The stream kept a block of last week but not the registration of two years ago."""
    ada = recipient(version=7, status=AccountStatus.ACTIVE, status_at=NOON - timedelta(days=30))
    blocked = recipient(user_id=ada.user_id, email="", phone="", version=0, status=AccountStatus.BLOCKED,
                        status_at=NOON - timedelta(days=7))  # fmt: skip
    db.recipients[ada.user_id] = blocked
    taken = await _take(db, clock, renderer, catalog, FakeUsers(ada), overdue(ada, 1))
    assert {n.address for n in taken.queued} == {ada.email, ada.phone}
    kept = db.recipients[ada.user_id]
    assert (kept.email, kept.version, kept.status, kept.status_at) == (ada.email, 7, AccountStatus.BLOCKED,
                                                                       blocked.status_at)  # fmt: skip


async def test_an_answer_older_than_what_an_event_brought_meanwhile_does_not_overwrite_it(db) -> None:
    newer = recipient(email="new@example.org", version=5, status_at=NOON)
    db.recipients[newer.user_id] = newer
    stale = replace(newer, email="old@example.org", version=4, status=AccountStatus.BLOCKED,
                    status_at=NOON - timedelta(hours=1))  # fmt: skip
    uow = db.unit_of_work()
    async with uow:
        learned = await projection.learn([newer.user_id], accounts=FakeUsers(stale), uow=uow)
        await uow.commit()
    assert learned.recipients[newer.user_id] == newer and db.recipients[newer.user_id] == newer


async def test_a_staff_message_to_an_account_the_projection_lacks_goes_to_it(db, clock, renderer) -> None:
    ada = recipient(version=2)
    command = sending.SendMessage(ada.user_id, Channel.EMAIL, subject="Hi", body="Hello")
    sent = await sending.send_message(
        command, uow=db.unit_of_work(), clock=clock, renderer=renderer, rules=RULES, accounts=FakeUsers(ada)
    )
    assert sent.address == ada.email and sent.status == Status.QUEUED and ada.user_id in db.recipients


async def test_a_staff_message_to_nobody_is_refused_and_one_the_users_service_cannot_check_is_unavailable(
    db, clock, renderer
) -> None:
    ada = recipient(version=2)
    command = sending.SendMessage(ada.user_id, Channel.EMAIL, subject="Hi", body="Hello")
    with pytest.raises(FailedPrecondition) as refused:
        await sending.send_message(
            command, uow=db.unit_of_work(), clock=clock, renderer=renderer, rules=RULES, accounts=FakeUsers()
        )
    assert refused.value.reason == "UNKNOWN_RECIPIENT"
    users = FakeUsers(ada)
    users.down = True
    with pytest.raises(DependencyUnavailable):
        await sending.send_message(
            command, uow=db.unit_of_work(), clock=clock, renderer=renderer, rules=RULES, accounts=users
        )
    assert db.notifications == {}


async def test_a_due_reminder_for_an_account_the_projection_lost_is_told(db, renderer) -> None:
    ada, gone = recipient(sms_opt_in=False, version=3), recipient(sms_opt_in=False, version=3)
    for n, person in enumerate((ada, gone)):  # a hold ready for each, with its pickup reminder
        (ready,) = hold_ready(person).occurrences
        schedule = hold_expiry_reminder(
            ready, hold=f"holds/h{n}", expires_at=NOON + timedelta(days=3), notice=RULES.hold_expiry_notice, now=NOON
        )
        uow = db.unit_of_work()
        async with uow:
            await uow.reminders.schedule(schedule)
            await uow.commit()
    clock = FixedClock(NOON + timedelta(days=2, hours=1))  # the projection was lost meanwhile
    reminded = await reminders.send_due_reminders(
        limit=10, uow=db.unit_of_work(), clock=clock, renderer=renderer, rules=RULES, accounts=FakeUsers(ada)
    )
    assert [(n.kind, n.recipient_id) for n in reminded.queued] == [(Kind.HOLD_EXPIRING, ada.user_id)]
    assert db.reminders == {}  # the one for nobody is not kept to be tried again
