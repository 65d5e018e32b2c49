"""The SMS channel against a real HTTP server on 127.0.0.1 answering as a test says: no answer in time is an
unknown outcome (a counted try, retried after a long wait with the same Idempotency-Key: finding N1)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aiohttp import web

from services.notifications.data.sms import SmsSettings, TwilioStyleSender
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


@asynccontextmanager
async def serving(provider: Provider) -> AsyncIterator[TwilioStyleSender]:
    app = web.Application()
    app.router.add_post("/2010-04-01/Accounts/AC1/Messages.json", provider.messages)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    sender = TwilioStyleSender(
        SmsSettings(f"http://127.0.0.1:{port}", "AC1", "token", "+15550000000", timeout_seconds=0.3)
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
    async with serving(provider) as sender:
        outcome = await sender.send(sms)
    assert isinstance(outcome, Failed) and outcome.transient and "unknown outcome" in outcome.reason
    sms.record(outcome, now=clock.now(), policy=RULES.retry, not_before=clock.now())
    assert (sms.status, sms.attempts) == (Status.QUEUED, 1)
    assert sms.next_attempt_at >= clock.now() + UNKNOWN_OUTCOME_WAIT
    assert provider.keys == [str(sms.id)]  # the retry carries the same key
