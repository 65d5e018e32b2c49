"""The hourly SMS limit spaces routine SMS out by what was sent; it never drops one, and never holds back a
hold-ready, overdue or security SMS."""

from __future__ import annotations

import uuid
from datetime import timedelta
from pathlib import Path

from services.notifications.app import delivering
from services.notifications.domain.delivery import Sent
from services.notifications.domain.kinds import Channel, Kind
from services.notifications.domain.notifications import Status
from services.notifications.domain.occurrences import Intake, Occurrence
from services.support.runtime.clock import FixedClock

from .conftest import NOON, RULES
from .fakes import recipient
from .test_intake import _take, hold_ready

LEASE = timedelta(seconds=30)
LIMIT = RULES.sms.max_per_hour


def renewed(person) -> Intake:
    occurrence = Occurrence(
        event_id=uuid.uuid4(), occurred_at=NOON, kind=Kind.LOAN_RENEWED, recipient_id=person.user_id,
        facts={"book_title": "Dead Souls", "due_date": NOON + timedelta(days=14)},
    )  # fmt: skip
    return Intake(occurrence.event_id, occurrences=(occurrence,))


def password_changed(person) -> Intake:
    occurrence = Occurrence(
        event_id=uuid.uuid4(), occurred_at=NOON, kind=Kind.PASSWORD_CHANGED, recipient_id=person.user_id,
        facts={"changed_at": NOON},
    )  # fmt: skip
    return Intake(occurrence.event_id, occurrences=(occurrence,))


async def _send_due(db, clock) -> list:
    """One dispatcher round on the SMS channel: everything claimed is accepted by the provider."""
    claimed = await delivering.claim_due(
        delivering.ClaimDue(Channel.SMS, 50, "w1", LEASE), uow=db.unit_of_work(), clock=clock, rules=RULES
    )
    attempts = [delivering.Attempt(n, Sent(f"SM{i}")) for i, n in enumerate(claimed)]
    await delivering.record_attempts(attempts, worker="w1", uow=db.unit_of_work(), clock=clock, rules=RULES)
    return claimed


def _sms(db, kind: Kind | None = None) -> list:
    return [n for n in db.notifications.values() if n.channel == Channel.SMS and kind in (None, n.kind)]


async def test_a_ready_hold_is_texted_after_routine_sms_used_up_the_limit(db, clock, renderer, catalog) -> None:
    ada = recipient()
    db.recipients[ada.user_id] = ada
    await _take(db, clock, renderer, catalog, *(renewed(ada) for _ in range(LIMIT + 2)))
    await _take(db, clock, renderer, catalog, hold_ready(ada))
    assert all(n.status == Status.QUEUED for n in _sms(db))  # nothing is dropped when it is queued
    sent = await _send_due(db, clock)
    (ready,) = _sms(db, Kind.HOLD_READY)
    assert ready.status == Status.SENT and ready.id in {n.id for n in sent}
    assert [n.kind for n in sent].count(Kind.LOAN_RENEWED) == LIMIT - 1  # the hold took one routine slot


async def test_routine_sms_beyond_the_limit_wait_for_a_later_slot_not_dropped(db, clock, renderer, catalog) -> None:
    ada = recipient()
    db.recipients[ada.user_id] = ada
    await _take(db, clock, renderer, catalog, *(renewed(ada) for _ in range(LIMIT + 1)))
    assert len(await _send_due(db, clock)) == LIMIT
    (waiting,) = [n for n in _sms(db) if n.status == Status.QUEUED]
    assert waiting.next_attempt_at > clock.now() and waiting.suppress_reason == ""
    clock.advance(RULES.sms.window + timedelta(seconds=1))
    assert [n.id for n in await _send_due(db, clock)] == [waiting.id]
    assert all(n.status == Status.SENT for n in _sms(db))


async def test_sms_held_for_the_quiet_hours_do_not_count_as_sent(db, renderer, catalog) -> None:
    ada = recipient(time_zone="Asia/Vladivostok")  # noon UTC is 22:00 there: every SMS waits for the morning
    db.recipients[ada.user_id] = ada
    night = FixedClock(NOON)
    await _take(db, night, renderer, catalog, *(renewed(ada) for _ in range(LIMIT + 1)))
    await _take(db, night, renderer, catalog, hold_ready(ada))
    assert await _send_due(db, night) == []
    assert all(n.status == Status.QUEUED for n in _sms(db))


async def test_the_morning_sends_no_more_routine_sms_than_the_limit(db, renderer, catalog) -> None:
    ada = recipient(time_zone="Asia/Vladivostok")
    db.recipients[ada.user_id] = ada
    await _take(db, FixedClock(NOON), renderer, catalog, *(renewed(ada) for _ in range(LIMIT + 2)))
    morning = FixedClock(NOON + timedelta(hours=10))  # 08:00 in Vladivostok
    assert len(await _send_due(db, morning)) == LIMIT
    assert len([n for n in _sms(db) if n.status == Status.QUEUED]) == 2


async def test_security_sms_are_never_held_back_by_the_limit(db, clock, renderer, catalog) -> None:
    ada = recipient()
    db.recipients[ada.user_id] = ada
    await _take(db, clock, renderer, catalog, *(renewed(ada) for _ in range(LIMIT)))
    await _send_due(db, clock)
    await _take(db, clock, renderer, catalog, password_changed(ada))
    (security,) = _sms(db, Kind.PASSWORD_CHANGED)
    assert [n.id for n in await _send_due(db, clock)] == [security.id]


async def test_the_limit_counts_per_phone_number_across_accounts(db, clock, renderer, catalog) -> None:
    same_number = [recipient(email="") for _ in range(LIMIT + 1)]
    db.recipients.update({person.user_id: person for person in same_number})
    for person in same_number:
        await _take(db, clock, renderer, catalog, renewed(person))
    assert len(await _send_due(db, clock)) == LIMIT
    assert [n.status for n in _sms(db)].count(Status.QUEUED) == 1


def test_the_api_reference_says_an_sms_over_the_limit_stays_queued_not_suppressed() -> None:
    """The proto (and so /docs and the clients) told clients to look for SUPPRESSED; the service keeps it QUEUED."""
    proto = Path(__file__).parents[3] / "proto/athenaeum/notifications/v1/notifications.proto"
    comments = proto.read_text()
    suppressed = comments[comments.index("NOTIFICATION_STATUS_FAILED = 3;") : comments.index("SUPPRESSED = 4;")]
    queued = comments[comments.index("UNSPECIFIED = 0;\n  // Pending") : comments.index("QUEUED = 1;")]
    reason = " ".join(comments[: comments.index("string suppress_reason")].rsplit(";", 1)[1].replace("//", "").split())
    assert "limit" not in suppressed
    assert "hourly" in queued and "limit" in queued
    assert "never suppresses" in reason and "QUEUED" in reason
