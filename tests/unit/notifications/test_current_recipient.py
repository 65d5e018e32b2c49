"""A notification queued earlier (still waiting, or retried) follows the recipient as they are now: a closed
account or an opt-out suppresses it, a changed address is used."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import timedelta

from services.notifications.app import delivering, sending
from services.notifications.domain.delivery import Failed
from services.notifications.domain.kinds import Channel, Kind
from services.notifications.domain.notifications import Status
from services.notifications.domain.occurrences import Intake, Occurrence
from services.notifications.domain.recipients import AccountStatus, route_now
from services.support.runtime.clock import FixedClock

from .conftest import NOON, RULES
from .fakes import recipient
from .test_intake import _take, overdue

LEASE = timedelta(seconds=30)


async def _claim(db, clock, channel=Channel.EMAIL):
    return await delivering.claim_due(
        delivering.ClaimDue(channel, 10, "w1", LEASE), uow=db.unit_of_work(), clock=clock, rules=RULES
    )


async def _failed_email(db, clock, renderer, catalog, person):
    db.recipients[person.user_id] = person
    (queued,) = (await _take(db, clock, renderer, catalog, overdue(person, 1))).queued
    (claimed,) = await _claim(db, clock)
    await delivering.record_attempts(
        [delivering.Attempt(claimed, Failed("550 no such user", transient=False))],
        worker="w1", uow=db.unit_of_work(), clock=clock, rules=RULES,
    )  # fmt: skip
    return queued


async def _retry(db, clock, notification):
    return await sending.retry_notification(
        sending.RetryNotification(notification.id), uow=db.unit_of_work(), clock=clock, rules=RULES
    )


async def test_a_retry_goes_to_the_address_the_patron_has_now(db, clock, renderer, catalog) -> None:
    ada = recipient(sms_opt_in=False, email="ada@exmaple.org")
    failed = await _failed_email(db, clock, renderer, catalog, ada)
    db.recipients[ada.user_id] = replace(ada, email="ada@example.org", version=2)
    retried = await _retry(db, clock, failed)
    assert retried.status == Status.QUEUED and retried.address == "ada@example.org"
    (claimed,) = await _claim(db, clock)
    assert claimed.address == db.notifications[failed.id].address == "ada@example.org"


async def test_a_retry_for_a_closed_account_is_suppressed(db, clock, renderer, catalog) -> None:
    ada = recipient(sms_opt_in=False)
    failed = await _failed_email(db, clock, renderer, catalog, ada)
    db.recipients[ada.user_id] = replace(ada, status=AccountStatus.DEACTIVATED, status_at=NOON)
    retried = await _retry(db, clock, failed)
    assert retried.status == Status.SUPPRESSED and retried.suppress_reason == "the account is closed"
    assert db.notifications[failed.id].status == Status.SUPPRESSED and await _claim(db, clock) == []


async def test_a_retry_after_an_opt_out_is_suppressed(db, clock, renderer, catalog) -> None:
    ada = recipient(sms_opt_in=False)
    failed = await _failed_email(db, clock, renderer, catalog, ada)
    db.recipients[ada.user_id] = replace(ada, email_opt_in=False, version=2)
    retried = await _retry(db, clock, failed)
    assert retried.status == Status.SUPPRESSED and "does not accept overdue by email" in retried.suppress_reason


async def test_an_sms_held_for_quiet_hours_is_suppressed_when_the_patron_opts_out_meanwhile(
    db, renderer, catalog
) -> None:
    ada = recipient(email="", time_zone="Asia/Vladivostok")  # 22:00 there at 12:00 UTC
    db.recipients[ada.user_id] = ada
    clock = FixedClock(NOON)
    taken = await _take(db, clock, renderer, catalog, overdue(ada, 1))
    (sms,) = [n for n in taken.queued if n.channel == Channel.SMS]
    assert sms.next_attempt_at > NOON
    db.recipients[ada.user_id] = replace(ada, sms_opt_in=False, version=2)
    clock.advance(timedelta(hours=10))
    assert await _claim(db, clock, Channel.SMS) == []
    stored = db.notifications[sms.id]
    assert stored.status == Status.SUPPRESSED and "does not accept overdue by sms" in stored.suppress_reason
    assert db.claims == {}


async def test_a_queued_email_is_claimed_with_the_address_the_patron_has_now(db, clock, renderer, catalog) -> None:
    ada = recipient(sms_opt_in=False)
    db.recipients[ada.user_id] = ada
    (queued,) = (await _take(db, clock, renderer, catalog, overdue(ada, 1))).queued
    db.recipients[ada.user_id] = replace(ada, email="ada.new@example.org", version=2)
    (claimed,) = await _claim(db, clock)
    assert claimed.id == queued.id and claimed.address == "ada.new@example.org"


async def test_a_security_notice_the_system_sends_still_ignores_an_email_opt_out(db, clock, renderer, catalog) -> None:
    ada = recipient(sms_opt_in=False)
    db.recipients[ada.user_id] = ada
    changed = Occurrence(
        event_id=uuid.uuid4(), occurred_at=NOON, kind=Kind.PASSWORD_CHANGED, recipient_id=ada.user_id,
        facts={"changed_at": NOON},
    )  # fmt: skip
    (queued,) = (await _take(db, clock, renderer, catalog, Intake(changed.event_id, occurrences=(changed,)))).queued
    db.recipients[ada.user_id] = replace(ada, email_opt_in=False, version=2)
    (claimed,) = await _claim(db, clock)
    assert claimed.id == queued.id and claimed.status == Status.QUEUED


def test_only_the_system_overrides_an_email_opt_out_for_a_security_notice() -> None:
    quiet = recipient(email_opt_in=False)
    assert route_now(quiet, Kind.SESSION_REVOKED, Channel.EMAIL, by_system=True).suppress_reason == ""
    assert route_now(quiet, Kind.SESSION_REVOKED, Channel.EMAIL, by_system=False).suppress_reason != ""
