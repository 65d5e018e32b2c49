"""A relay refusing the library rather than a message (finding N2), against a real SMTP server on 127.0.0.1:
authentication wanted or the sender refused at MAIL FROM, a relay denied at RCPT TO. The channel is down,
the notices stay queued untouched, the gauge says 0 and one error is logged; only a refusal of the recipient
fails the one notification."""

from __future__ import annotations

import asyncio
import logging

import pytest

from services.notifications.api.workers import CHANNEL_UP, Dispatcher, DispatchSettings
from services.notifications.app.ports import ChannelRefused
from services.notifications.data.email import SmtpSender, SmtpSettings
from services.notifications.domain.delivery import Failed
from services.notifications.domain.kinds import Channel
from services.notifications.domain.notifications import Notification, Status

from .conftest import RULES
from .fake_relay import Relay, running
from .fakes import recipient
from .test_intake import _take, hold_ready


async def _emails(db, clock, renderer, catalog, count: int) -> list[Notification]:
    people = [recipient(sms_opt_in=False) for _ in range(count)]
    for person in people:
        db.recipients[person.user_id] = person
    await _take(db, clock, renderer, catalog, *(hold_ready(person) for person in people))
    return list(db.notifications.values())


def _sender(relay: Relay) -> SmtpSender:
    return SmtpSender(SmtpSettings(host="127.0.0.1", port=relay.port, from_address="lib@test.org", starttls=False))


@pytest.mark.parametrize(
    "relay",
    [
        Relay(mail_reply="530 5.7.0 Authentication required"),
        Relay(mail_reply="553 5.7.1 Sender address rejected: not owned by user"),
        Relay(rcpt_reply="554 5.7.1 <a@b.org>: Relay access denied"),
    ],
    ids=["auth required", "sender not owned", "relay denied"],
)
async def test_a_refusal_of_the_sender_is_the_channel_refusing_the_library(
    db, clock, renderer, catalog, relay: Relay
) -> None:
    [email] = await _emails(db, clock, renderer, catalog, 1)
    async with running(relay):
        sender = _sender(relay)
        with pytest.raises(ChannelRefused):
            await sender.send(email)
        await sender.close()
    assert relay.received == []


async def test_the_probe_asks_for_the_sender_so_a_relay_answering_noop_but_refusing_mail_stays_down() -> None:
    async with running(Relay(mail_reply="530 5.7.0 Authentication required")) as relay:
        sender = _sender(relay)
        with pytest.raises(ChannelRefused):
            await sender.probe()
        relay.mail_reply = "250 Ok"
        await sender.probe()  # back
        await sender.close()


async def test_an_unknown_recipient_still_fails_the_one_notification(db, clock, renderer, catalog) -> None:
    [email] = await _emails(db, clock, renderer, catalog, 1)
    async with running(Relay(rcpt_reply="550 5.1.1 No such user")) as relay:
        sender = _sender(relay)
        outcome = await sender.send(email)
        await sender.close()
    assert outcome == Failed("550 5.1.1 No such user", transient=False)


async def test_while_the_relay_refuses_the_sender_the_notices_stay_queued_and_one_error_says_so(
    db, clock, renderer, catalog, caplog: pytest.LogCaptureFixture
) -> None:
    await _emails(db, clock, renderer, catalog, 5)
    async with running(Relay(mail_reply="530 5.7.0 Authentication required")) as relay:
        sender = _sender(relay)
        settings = DispatchSettings(worker="w1", concurrency=8, poll_seconds=0.01)
        dispatcher = Dispatcher(Channel.EMAIL, sender, uow=db.unit_of_work, clock=clock, rules=RULES, settings=settings)
        CHANNEL_UP.labels("email").set(1)  # another test may have left it down
        with caplog.at_level(logging.ERROR, logger="athenaeum.notifications.delivery"):
            task = asyncio.create_task(dispatcher.run())
            # Down once the first send is refused; each of the five sends then hands its claim back (a slow,
            # loaded machine takes its time: wait for that, not for a fixed second).
            async with asyncio.timeout(15):
                while CHANNEL_UP.labels("email")._value.get() != 0 or db.claims:  # noqa: ASYNC110 (a fake database)
                    await asyncio.sleep(0.02)
            await asyncio.sleep(0.2)  # nothing is claimed again while the channel stays down
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        await sender.close()
    assert all((n.status, n.attempts, n.last_error) == (Status.QUEUED, 0, "") for n in db.notifications.values())
    assert not db.claims
    refusals = [r for r in caplog.records if "refuses the library" in r.getMessage()]
    assert len(refusals) == 1 and refusals[0].levelno == logging.ERROR
