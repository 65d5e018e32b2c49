"""The dispatcher's loop, with the in-memory database and a channel that answers after a pause: how many
sends it keeps in flight, and how many claims (transactions) a backlog costs."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from services.notifications.api.workers import Dispatcher, DispatchSettings
from services.notifications.domain.delivery import Outcome, Sent
from services.notifications.domain.kinds import Channel
from services.notifications.domain.notifications import Notification, Status

from .conftest import RULES
from .fakes import FakeNotifications, recipient
from .test_intake import _take, hold_ready


class SlowChannel:
    """Answers each send after a short pause, counting the sends in flight."""

    def __init__(self) -> None:
        self.in_flight = 0
        self.most_in_flight = 0
        self.sent: list[Notification] = []

    async def send(self, notification: Notification) -> Outcome:
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        await asyncio.sleep(0.002)
        self.in_flight -= 1
        self.sent.append(notification)
        return Sent(f"<{notification.id}@test>")

    async def probe(self) -> None:
        return None


@pytest.fixture
def claims(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many notifications each claim took, in order."""
    taken: list[int] = []
    claim_due = FakeNotifications.claim_due

    async def counted(self: FakeNotifications, *args: object, **kwargs: object) -> list[Notification]:
        claimed = await claim_due(self, *args, **kwargs)  # type: ignore[arg-type]
        taken.append(len(claimed))
        return claimed

    monkeypatch.setattr(FakeNotifications, "claim_due", counted)
    return taken


async def _queue_emails(db, clock, renderer, catalog, count: int) -> None:
    people = [recipient(sms_opt_in=False) for _ in range(count)]
    for person in people:
        db.recipients[person.user_id] = person
    await _take(db, clock, renderer, catalog, *(hold_ready(person) for person in people))


async def _dispatch_until_sent(db, clock, channel: SlowChannel, *, concurrency: int, count: int) -> None:
    settings = DispatchSettings(worker="w1", concurrency=concurrency, poll_seconds=0.01)
    dispatcher = Dispatcher(Channel.EMAIL, channel, uow=db.unit_of_work, clock=clock, rules=RULES, settings=settings)
    running = asyncio.create_task(dispatcher.run())
    try:
        async with asyncio.timeout(10):
            # The fake database has nothing to wait on: it is looked at until every outcome is recorded.
            while len(channel.sent) < count or any(n.status != Status.SENT for n in db.notifications.values()):  # noqa: ASYNC110
                await asyncio.sleep(0.005)
    finally:
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)


async def test_a_backlog_is_claimed_half_the_slots_at_a_time(db, clock, renderer, catalog, claims) -> None:
    await _queue_emails(db, clock, renderer, catalog, 40)
    channel = SlowChannel()
    await _dispatch_until_sent(db, clock, channel, concurrency=8, count=40)
    assert sorted(n.id for n in channel.sent) == sorted(db.notifications)  # each once
    assert channel.most_in_flight <= 8
    taking = [count for count in claims if count]
    assert sum(taking) == 40
    assert all(count >= 4 for count in taking[:-1]), taking  # not one claim per ended send
    assert len(taking) <= 9


async def test_one_send_at_a_time_still_drains_the_backlog(db, clock, renderer, catalog, claims) -> None:
    await _queue_emails(db, clock, renderer, catalog, 5)
    channel = SlowChannel()
    await _dispatch_until_sent(db, clock, channel, concurrency=1, count=5)
    assert channel.most_in_flight == 1
    assert [count for count in claims if count] == [1] * 5


async def test_an_outcome_the_database_could_not_take_is_kept_and_the_message_is_not_sent_again(
    db, clock, renderer, catalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Postgres restarts while a sent message's outcome is being recorded, for longer than the claim's lease:
    the outcome is recorded once the database is back, the message was sent once, announced once."""
    await _queue_emails(db, clock, renderer, catalog, 1)
    save_outcomes = FakeNotifications.save_outcomes
    failures = 2

    async def away_at_first(self: FakeNotifications, notifications: list[Notification], *, worker: str) -> None:
        nonlocal failures
        if failures:
            failures -= 1
            clock.advance(timedelta(minutes=1))  # the outage outlasts the lease: the claim has lapsed
            raise ConnectionRefusedError("the database system is starting up")
        await save_outcomes(self, notifications, worker=worker)

    monkeypatch.setattr(FakeNotifications, "save_outcomes", away_at_first)
    channel = SlowChannel()
    await _dispatch_until_sent(db, clock, channel, concurrency=8, count=1)
    assert failures == 0
    assert len(channel.sent) == 1
    [stored] = db.notifications.values()
    assert stored.status == Status.SENT and stored.attempts == 1
    assert [type(e).__name__ for e in db.published if getattr(e, "notification", None)] == ["NotificationSent"]
    assert not db.claims
