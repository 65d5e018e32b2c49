"""A reminder held back (an SMS in the recipient's quiet hours) is checked again when it is due: not sent once
its reason is gone (the loan returned or renewed, the hold collected, the moment it announces past), and held
for the quiet hours of the zone the recipient has now."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import datetime, timedelta

from athenaeum.loans.v1 import events_pb2 as loans
from athenaeum.loans.v1 import resources_pb2
from services.notifications.app import delivering, projection
from services.notifications.domain.kinds import Channel
from services.notifications.domain.notifications import Status
from services.notifications.domain.recipients import ChannelChoice
from services.support.runtime.clock import FixedClock
from services.support.runtime.wire import event_subject, timestamp

from .conftest import NOON, RULES
from .fakes import recipient
from .test_decoding import DECODER
from .test_intake import _take

LEASE = timedelta(seconds=30)
NIGHT = NOON + timedelta(hours=10)  # 22:00 UTC: quiet hours for a patron in London (the SMS waits for 08:00)


def _loan(ada, due: datetime) -> resources_pb2.Loan:
    return resources_pb2.Loan(
        name="loans/l1", patron=ada.name, book_title="Dead Souls", barcode="B1", due_time=timestamp(due)
    )


def _intake(event):
    return DECODER.intake(event_subject("loans", event), event.SerializeToString(), trace={})


def _due_soon(ada, due: datetime, at: datetime = NIGHT):
    return _intake(
        loans.LoanDueSoon(event_id=str(uuid.uuid4()), occur_time=timestamp(at), loan=_loan(ada, due), step=1)
    )


async def _held_sms(db, renderer, catalog, intake, clock):
    (sms,) = [n for n in (await _take(db, clock, renderer, catalog, intake)).queued if n.channel == Channel.SMS]
    assert sms.status == Status.QUEUED and sms.next_attempt_at > clock.now()  # held until 08:00
    return sms


async def _claim(db, clock):
    return await delivering.claim_due(
        delivering.ClaimDue(Channel.SMS, 10, "w1", LEASE), uow=db.unit_of_work(), clock=clock, rules=RULES
    )


def _patron(**fields):
    return recipient(email="", time_zone="Europe/London", **fields)


async def test_a_due_soon_sms_held_for_the_night_is_not_sent_once_the_loan_is_returned(db, renderer, catalog) -> None:
    ada = _patron()
    db.recipients[ada.user_id] = ada
    clock = FixedClock(NIGHT)
    sms = await _held_sms(db, renderer, catalog, _due_soon(ada, NIGHT + timedelta(days=2)), clock)
    clock.advance(timedelta(minutes=5))
    returned = loans.LoanReturned(event_id=str(uuid.uuid4()), occur_time=timestamp(clock.now()), loan=_loan(ada, NOON))
    await _take(db, clock, renderer, catalog, _intake(returned))
    stored = db.notifications[sms.id]
    assert stored.status == Status.SUPPRESSED and stored.suppress_reason == "the loan was returned"
    clock.advance(timedelta(hours=10))
    assert await _claim(db, clock) == []


async def test_a_renewal_drops_the_waiting_reminder_of_the_old_due_date_but_not_a_later_one(
    db, renderer, catalog
) -> None:
    ada = _patron(kinds={"loan_renewed": ChannelChoice(email=False, sms=False)})  # within the SMS limit
    db.recipients[ada.user_id] = ada
    clock = FixedClock(NIGHT)
    old = await _held_sms(db, renderer, catalog, _due_soon(ada, NIGHT + timedelta(days=2)), clock)
    clock.advance(timedelta(minutes=5))
    renewed = loans.LoanRenewed(event_id=str(uuid.uuid4()), occur_time=timestamp(clock.now()),
                                loan=_loan(ada, NIGHT + timedelta(days=16)))  # fmt: skip
    later = _due_soon(ada, NIGHT + timedelta(days=16), at=clock.now() + timedelta(minutes=1))
    await _take(db, clock, renderer, catalog, _intake(renewed), later)  # one batch: the later reminder stays
    assert db.notifications[old.id].status == Status.SUPPRESSED
    waiting = [n.status for n in db.notifications.values() if n.id != old.id and n.channel == Channel.SMS]
    assert waiting == [Status.QUEUED]


async def test_a_reminder_that_would_arrive_after_the_moment_it_announces_is_not_sent(db, renderer, catalog) -> None:
    ada = _patron()
    db.recipients[ada.user_id] = ada
    clock = FixedClock(NIGHT)
    sms = await _held_sms(db, renderer, catalog, _due_soon(ada, NIGHT + timedelta(hours=4)), clock)  # due 02:00
    clock.advance(timedelta(hours=10))  # 08:00, the quiet hours over
    assert await _claim(db, clock) == []
    stored = db.notifications[sms.id]
    assert stored.status == Status.SUPPRESSED and stored.suppress_reason == delivering.TOO_LATE


async def test_an_sms_follows_the_quiet_hours_of_the_zone_the_patron_has_now(db, renderer, catalog) -> None:
    ada = _patron()
    db.recipients[ada.user_id] = ada
    clock = FixedClock(NIGHT)
    sms = await _held_sms(db, renderer, catalog, _due_soon(ada, NIGHT + timedelta(days=2)), clock)
    moved = replace(ada, time_zone="America/Los_Angeles", version=2, status_at=clock.now())  # 14:00 there
    await projection.apply_profile(projection.ProfileSeen(moved), uow=db.unit_of_work())
    (claimed,) = await _claim(db, clock)  # sent now: it is day where they are
    assert claimed.id == sms.id
    db.claims.clear()
    to_tokyo = replace(moved, time_zone="Asia/Tokyo", version=3)  # 07:00 there: wait an hour, not ten
    await projection.apply_profile(projection.ProfileSeen(to_tokyo), uow=db.unit_of_work())
    assert await _claim(db, clock) == []
    assert db.notifications[sms.id].next_attempt_at == NIGHT + timedelta(hours=1) and db.claims == {}
