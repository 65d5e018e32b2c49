"""A mail server slow to answer the end of a message, or dropping the connection there (finding N1), against
a real SMTP server on 127.0.0.1: the letter goes once, an unknown outcome is a counted attempt retried (same
Message-ID) only after a long wait, and a claim is kept while its send waits for the answer."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime, timedelta
from email import message_from_bytes

import pytest

from services.notifications.api.workers import Dispatcher, DispatchSettings
from services.notifications.data.email import SmtpSender, SmtpSettings
from services.notifications.domain.delivery import UNKNOWN_OUTCOME_WAIT, Failed, Outcome, Sent
from services.notifications.domain.kinds import Channel
from services.notifications.domain.notifications import Notification, Status

from .conftest import NOON, RULES
from .fake_relay import Relay, running
from .fakes import recipient
from .test_intake import _take, hold_ready


async def _one_email(db, clock, renderer, catalog) -> Notification:
    person = recipient(sms_opt_in=False)
    db.recipients[person.user_id] = person
    await _take(db, clock, renderer, catalog, hold_ready(person))
    [email] = db.notifications.values()
    return email


def _sender(relay: Relay, **timeouts: float) -> SmtpSender:
    """A sender to the local relay; its timeouts generous but where a test sets them (at 0.2 s a loaded machine
    timed out connecting to the relay at times)."""
    settings = SmtpSettings(host="127.0.0.1", port=relay.port, from_address="library@test.org", starttls=False)
    return SmtpSender(SmtpSettings(**{**_fields(settings), "timeout_seconds": 10.0, **timeouts}))


def _fields(settings: SmtpSettings) -> dict[str, object]:
    return {name: getattr(settings, name) for name in settings.__slots__}


async def test_a_relay_slower_than_the_command_timeout_to_answer_the_end_gets_the_letter_once(
    db, clock, renderer, catalog
) -> None:
    email = await _one_email(db, clock, renderer, catalog)
    async with running(Relay(end_pause=4)) as relay:
        sender = _sender(relay, timeout_seconds=1.5, data_timeout_seconds=10)
        outcome = await sender.send(email)
        await sender.close()
    assert isinstance(outcome, Sent)
    assert len(relay.received) == 1


@pytest.mark.parametrize("relay", [Relay(drop_after_data=True), Relay(end_pause=2)], ids=["dropped", "no answer"])
async def test_no_answer_to_the_end_is_an_unknown_outcome_tried_again_only_after_a_long_wait(
    db, clock, renderer, catalog, relay: Relay
) -> None:
    email = await _one_email(db, clock, renderer, catalog)
    async with running(relay):
        sender = _sender(relay, data_timeout_seconds=0.5)
        outcome = await sender.send(email)
        await sender.close()
    assert isinstance(outcome, Failed) and outcome.transient
    assert "unknown outcome" in outcome.reason
    assert outcome.retry_after is not None and outcome.retry_after >= timedelta(minutes=5)
    email.record(outcome, now=clock.now(), policy=RULES.retry, not_before=clock.now())
    assert (email.status, email.attempts) == (Status.QUEUED, 1)  # counted: max_attempts ends it
    assert email.next_attempt_at >= clock.now() + UNKNOWN_OUTCOME_WAIT
    assert email.last_error.startswith("temporary: unknown outcome")


async def test_a_relay_dropping_every_letter_after_data_gets_it_once_and_the_try_is_counted(
    db, clock, renderer, catalog
) -> None:
    """A poison message killing the relay's content filter: once, not once a second for ever."""
    email = await _one_email(db, clock, renderer, catalog)
    async with running(Relay(drop_after_data=True)) as relay:
        sender = _sender(relay)
        tried = lambda: db.notifications[email.id].attempts >= 1  # noqa: E731
        await _dispatch_until(db, clock, sender, tried, then=1.0)  # time enough for a wrong second try
        await sender.close()
    assert len(relay.received) == 1
    stored = db.notifications[email.id]
    assert (stored.status, stored.attempts) == (Status.QUEUED, 1)
    assert stored.next_attempt_at >= clock.now() + UNKNOWN_OUTCOME_WAIT


async def test_the_copy_sent_after_the_wait_carries_the_same_message_id(db, clock, renderer, catalog) -> None:
    email = await _one_email(db, clock, renderer, catalog)
    async with running(Relay(drop_after_data=True)) as relay:
        sender = _sender(relay)
        await sender.send(email)
        relay.drop_after_data = False
        assert isinstance(await sender.send(email), Sent)
        await sender.close()
    first, second = (message_from_bytes(raw)["Message-ID"] for raw in relay.received)
    assert first == second


class Patient:
    """A channel whose answer takes longer than the claim's lease."""

    def __init__(self, answer_seconds: float = 0.5) -> None:
        self.sent: list[Notification] = []
        self.answer_seconds = answer_seconds

    async def send(self, notification: Notification) -> Outcome:
        self.sent.append(notification)
        await asyncio.sleep(self.answer_seconds)
        return Sent("<x@test>")

    async def probe(self) -> None:
        return None


class WallClock:
    """Noon, moving with the event loop's time: the leases lapse as the test runs."""

    def __init__(self) -> None:
        self._start = asyncio.get_running_loop().time()

    def now(self) -> datetime:
        return NOON + timedelta(seconds=asyncio.get_running_loop().time() - self._start)


async def test_a_send_waiting_longer_than_the_lease_keeps_its_claim_and_is_not_sent_again(
    db, clock, renderer, catalog
) -> None:
    """Two processes, a 3 s lease and an answer after 7 s (two leases and more): the claim is kept, the other does
    not send. (Shorter leases failed now and then on a loaded machine: the event loop came late to extend them,
    every third of a lease, and the other process sent too; 0.6 s under 2 busy loops, 1.5 s at a load of 40.)"""
    email = await _one_email(db, clock, renderer, catalog)
    channel = Patient(answer_seconds=7)
    sent = lambda: db.notifications[email.id].status == Status.SENT  # noqa: E731
    await _dispatch_until(db, WallClock(), channel, sent, then=0.5, workers=("w1", "w2"), lease=timedelta(seconds=3))
    assert len(channel.sent) == 1


async def _dispatch_until(
    db, clock, sender, done: Callable[[], bool], *, then: float, workers=("w1",), lease=timedelta(seconds=30)
) -> None:
    """Dispatches until `done()` (a loaded machine takes its time: no fixed wait), then `then` seconds more for
    anything that must not follow."""
    running_ = []
    for worker in workers:
        settings = DispatchSettings(worker=worker, concurrency=4, poll_seconds=0.01, lease=lease)
        dispatcher = Dispatcher(Channel.EMAIL, sender, uow=db.unit_of_work, clock=clock, rules=RULES, settings=settings)
        running_.append(asyncio.create_task(dispatcher.run()))
    try:
        async with asyncio.timeout(20):
            while not done():  # noqa: ASYNC110 (a fake database: nothing to wait on)
                await asyncio.sleep(0.01)
        await asyncio.sleep(then)
    finally:
        for task in running_:
            task.cancel()
        await asyncio.gather(*running_, return_exceptions=True)
