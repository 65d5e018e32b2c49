"""The SMS channel against a real HTTP server on 127.0.0.1 answering as a test says: no answer in time is an
unknown outcome (a counted try, retried after a long wait with the same Idempotency-Key: finding N1), a 429 is
a counted try that waits the provider's Retry-After (N3), a 401 refuses the library (the channel is down: N2)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

import pytest
from aiohttp import web

from services.notifications.api.workers import Dispatcher, DispatchSettings
from services.notifications.app.ports import ChannelRefused
from services.notifications.data.sms import MAX_RETRY_AFTER, SmsSettings, TwilioStyleSender
from services.notifications.domain.delivery import UNKNOWN_OUTCOME_WAIT, Failed
from services.notifications.domain.kinds import Channel
from services.notifications.domain.notifications import Notification, Status

from .conftest import RULES
from .fakes import recipient
from .test_intake import _take, hold_ready


class Provider:
    def __init__(self, status: int = 201, *, pause: float = 0.0, headers: dict[str, str] | None = None) -> None:
        self.status, self.pause, self.headers = status, pause, headers or {}
        self.keys: list[str] = []

    async def messages(self, request: web.Request) -> web.Response:
        self.keys.append(request.headers.get("Idempotency-Key", ""))
        await asyncio.sleep(self.pause)
        body = {"sid": "SM1"} if self.status == 201 else {"code": 20429, "message": "Too Many Requests"}
        return web.json_response(body, status=self.status, headers=self.headers)


async def _account(_: web.Request) -> web.Response:
    return web.json_response({"sid": "AC1"})


@asynccontextmanager
async def serving(provider: Provider, *, answer_within: float = 10.0) -> AsyncIterator[TwilioStyleSender]:
    """The provider on a local port, and a sender to it. A generous timeout but where a test wants a short one: a loaded
    machine's server took more than 0.3 s to answer at times, and the answer was taken for no answer at all."""
    app = web.Application()
    app.router.add_post("/2010-04-01/Accounts/AC1/Messages.json", provider.messages)
    app.router.add_get("/2010-04-01/Accounts/AC1.json", _account)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    sender = TwilioStyleSender(
        SmsSettings(f"http://127.0.0.1:{port}", "AC1", "token", "+15550000000", timeout_seconds=answer_within)
    )
    try:
        yield sender
    finally:
        await sender.close()
        await runner.cleanup()


async def _one_sms(db, clock, renderer, catalog) -> Notification:
    person = recipient()
    db.recipients[person.user_id] = person
    await _take(db, clock, renderer, catalog, hold_ready(person))
    [sms] = [n for n in db.notifications.values() if n.channel == Channel.SMS]
    return sms


async def test_a_provider_that_answers_too_late_got_an_unknown_outcome_counted_and_retried_later(
    db, clock, renderer, catalog
) -> None:
    sms = await _one_sms(db, clock, renderer, catalog)
    provider = Provider(pause=1.0)
    async with serving(provider, answer_within=0.3) as sender:
        outcome = await sender.send(sms)
    assert isinstance(outcome, Failed) and outcome.transient and "unknown outcome" in outcome.reason
    sms.record(outcome, now=clock.now(), policy=RULES.retry, not_before=clock.now())
    assert (sms.status, sms.attempts) == (Status.QUEUED, 1)
    assert sms.next_attempt_at >= clock.now() + UNKNOWN_OUTCOME_WAIT
    assert provider.keys == [str(sms.id)]  # the retry carries the same key


@pytest.mark.parametrize(
    ("retry_after", "wait"),
    [("120", timedelta(seconds=120)), ("999999", MAX_RETRY_AFTER), ("soon", None), ("inf", MAX_RETRY_AFTER)],
)
async def test_a_rate_limit_is_a_counted_try_that_waits_the_providers_retry_after(
    db, clock, renderer, catalog, retry_after: str, wait: timedelta | None
) -> None:
    sms = await _one_sms(db, clock, renderer, catalog)
    async with serving(Provider(429, headers={"Retry-After": retry_after})) as sender:
        outcome = await sender.send(sms)
    assert isinstance(outcome, Failed) and outcome.transient
    assert outcome.retry_after == wait
    sms.record(outcome, now=clock.now(), policy=RULES.retry, not_before=clock.now())
    assert (sms.status, sms.attempts) == (Status.QUEUED, 1)
    assert sms.last_error.startswith("temporary: provider rate-limited: 429")
    assert sms.next_attempt_at >= clock.now() + (wait or timedelta(seconds=1))


async def test_a_rate_limited_sms_is_posted_once_then_waits_not_once_a_second(db, clock, renderer, catalog) -> None:
    """The account still answers during a rate limit: the channel is not down, the notice waits its turn."""
    sms = await _one_sms(db, clock, renderer, catalog)
    provider = Provider(429, headers={"Retry-After": "30"})
    async with serving(provider) as sender:
        settings = DispatchSettings(worker="w1", concurrency=4, poll_seconds=0.01)
        dispatcher = Dispatcher(Channel.SMS, sender, uow=db.unit_of_work, clock=clock, rules=RULES, settings=settings)
        task = asyncio.create_task(dispatcher.run())
        try:
            async with asyncio.timeout(20):  # the first post, however late a loaded machine gets to it
                while db.notifications[sms.id].attempts < 1:  # noqa: ASYNC110 (a fake database)
                    await asyncio.sleep(0.01)
            await asyncio.sleep(1.5)  # a second post once a second would have come by now
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
    assert provider.keys == [str(sms.id)]
    stored = db.notifications[sms.id]
    assert (stored.status, stored.attempts) == (Status.QUEUED, 1)
    assert "rate-limited" in stored.last_error
    assert stored.next_attempt_at >= clock.now() + timedelta(seconds=30)


async def test_a_refused_login_is_the_channel_refusing_the_library(db, clock, renderer, catalog) -> None:
    sms = await _one_sms(db, clock, renderer, catalog)
    async with serving(Provider(401)) as sender:
        with pytest.raises(ChannelRefused):
            await sender.send(sms)
