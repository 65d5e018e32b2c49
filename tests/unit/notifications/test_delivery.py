"""Delivery through the claim -> send -> record cycle, with the in-memory database and scripted channels."""

from __future__ import annotations

from datetime import timedelta

from services.notifications.app import delivering, sending
from services.notifications.domain.delivery import Failed, Sent
from services.notifications.domain.kinds import Channel
from services.notifications.domain.notifications import NotificationFailed, NotificationSent, Status
from services.support.runtime.clock import FixedClock

from .conftest import NOON, RULES
from .fakes import recipient
from .test_intake import _take, overdue

LEASE = timedelta(seconds=30)


async def _queue_email(db, clock, renderer, catalog):
    ada = recipient(sms_opt_in=False)
    db.recipients[ada.user_id] = ada
    (notification,) = (await _take(db, clock, renderer, catalog, overdue(ada, 1))).queued
    return notification


async def _cycle(db, clock, outcome, worker="w1"):
    (claimed,) = await delivering.claim_due(
        delivering.ClaimDue(Channel.EMAIL, 10, worker, LEASE), uow=db.unit_of_work(), clock=clock, rules=RULES
    )
    await delivering.record_attempts(
        [delivering.Attempt(claimed, outcome)], worker=worker, uow=db.unit_of_work(), clock=clock, rules=RULES
    )
    return db.notifications[claimed.id]


async def test_a_sent_notification_is_recorded_and_announced(db, clock, renderer, catalog) -> None:
    await _queue_email(db, clock, renderer, catalog)
    stored = await _cycle(db, clock, Sent("<1@athenaeum.local>"))
    assert stored.status == Status.SENT and stored.attempts == 1 and db.claims == {}
    assert [type(e) for e in db.published] == [NotificationSent]


async def test_temporary_failures_wait_and_the_last_one_fails_for_good(db, clock, renderer, catalog) -> None:
    await _queue_email(db, clock, renderer, catalog)
    for _ in range(RULES.retry.max_attempts - 1):
        stored = await _cycle(db, clock, Failed("451 try later", transient=True))
        assert stored.status == Status.QUEUED and stored.next_attempt_at > clock.now()
        clock.advance(RULES.retry.cap)
    stored = await _cycle(db, clock, Failed("451 try later", transient=True))
    assert stored.status == Status.FAILED and stored.attempts == RULES.retry.max_attempts
    assert [type(e) for e in db.published] == [NotificationFailed]


async def test_a_failed_notification_can_be_queued_again(db, clock, renderer, catalog) -> None:
    queued = await _queue_email(db, clock, renderer, catalog)
    await _cycle(db, clock, Failed("550 no such user", transient=False))
    retried = await sending.retry_notification(
        sending.RetryNotification(queued.id), uow=db.unit_of_work(), clock=clock, rules=RULES
    )
    assert retried.status == Status.QUEUED
    assert (await _cycle(db, clock, Sent("<2@x>"))).status == Status.SENT


async def test_an_attempt_never_made_gives_the_claim_back_and_spends_no_try(db, clock, renderer, catalog) -> None:
    await _queue_email(db, clock, renderer, catalog)
    stored = await _cycle(db, clock, None)  # the mail server was down
    assert stored.status == Status.QUEUED and stored.attempts == 0 and db.claims == {}


async def test_two_dispatchers_never_hold_the_same_notification(db, clock, renderer, catalog) -> None:
    await _queue_email(db, clock, renderer, catalog)
    claim = delivering.ClaimDue(Channel.EMAIL, 10, "w1", LEASE)
    first = await delivering.claim_due(claim, uow=db.unit_of_work(), clock=clock, rules=RULES)
    second = await delivering.claim_due(
        delivering.ClaimDue(Channel.EMAIL, 10, "w2", LEASE), uow=db.unit_of_work(), clock=clock, rules=RULES
    )
    assert len(first) == 1 and second == []
    clock.advance(LEASE + timedelta(seconds=1))  # w1 crashed: its lease runs out and w2 takes over
    taken_over = await delivering.claim_due(
        delivering.ClaimDue(Channel.EMAIL, 10, "w2", LEASE), uow=db.unit_of_work(), clock=clock, rules=RULES
    )
    assert [n.id for n in taken_over] == [n.id for n in first]


async def test_a_restarted_dispatcher_takes_back_its_own_claims_at_once(db, clock, renderer, catalog) -> None:
    await _queue_email(db, clock, renderer, catalog)
    await delivering.claim_due(
        delivering.ClaimDue(Channel.EMAIL, 10, "w1", LEASE), uow=db.unit_of_work(), clock=clock, rules=RULES
    )
    assert await delivering.release_claims("w1", uow=db.unit_of_work()) == 1
    again = await delivering.claim_due(
        delivering.ClaimDue(Channel.EMAIL, 10, "w1", LEASE), uow=db.unit_of_work(), clock=clock, rules=RULES
    )
    assert len(again) == 1


async def test_a_retried_sms_keeps_the_recipients_quiet_hours(db, renderer, catalog) -> None:
    ada = recipient(time_zone="Asia/Vladivostok", email="")  # 22:00 there at 12:00 UTC
    db.recipients[ada.user_id] = ada
    clock = FixedClock(NOON - timedelta(hours=3))  # 19:00 there: the SMS goes out at once...
    (sms,) = [
        n for n in (await _take(db, clock, renderer, catalog, overdue(ada, 1))).queued if n.channel == Channel.SMS
    ]
    clock.advance(timedelta(hours=3) - timedelta(minutes=1))  # claimed at 21:59...
    (claimed,) = await delivering.claim_due(
        delivering.ClaimDue(Channel.SMS, 10, "w", LEASE), uow=db.unit_of_work(), clock=clock, rules=RULES
    )
    clock.advance(timedelta(minutes=1))  # ...is refused for now at 22:00, and its retry waits for 08:00 there
    await delivering.record_attempts(
        [delivering.Attempt(claimed, Failed("503", transient=True))],
        worker="w",
        uow=db.unit_of_work(),
        clock=clock,
        rules=RULES,
    )
    assert db.notifications[sms.id].next_attempt_at == NOON + timedelta(hours=10)
