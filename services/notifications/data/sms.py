"""SMS through a provider's HTTP API, Twilio-style: POST /2010-04-01/Accounts/{sid}/Messages.json with To,
From and Body, HTTP Basic auth with the account sid and token. 201 sent; a 4xx about the message (an
invalid number) failed for good; 5xx try again later; no connection means the channel is down, and 401/403
that it refuses the library (ChannelRefused: the notification waits, an error is logged).

A request sent that got no answer (the time ran out, the connection dropped) is an unknown outcome: the SMS
may have gone. It is an attempt (counted, so `max_attempts` ends it), sent again with the same
Idempotency-Key only after at least `UNKNOWN_OUTCOME_WAIT`. A 429 is the provider asking to slow down: an
attempt too, "provider rate-limited", tried again after its Retry-After (at most `MAX_RETRY_AFTER`) or the
backoff, whichever is later.

The client is aiohttp with a pool of keep-alive connections: it writes each request (head and form body) in
one go and costs a fraction of httpx's CPU per request (httpx was ~45 % of the service's CPU in a burst)."""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlencode

import aiohttp

from services.notifications.app.ports import ChannelRefused, ChannelUnavailable
from services.notifications.domain.delivery import UNKNOWN_OUTCOME_WAIT, Failed, Outcome, Sent
from services.notifications.domain.notifications import Notification

log = logging.getLogger("athenaeum.notifications.sms")

_UNREACHABLE = (aiohttp.ClientError, TimeoutError, asyncio.TimeoutError, OSError)
_NOT_CONNECTED = (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError)
"""Failures before the request could be written: nothing was sent."""
MAX_RETRY_AFTER = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class SmsSettings:
    base_url: str
    account_sid: str
    auth_token: str
    from_number: str
    pool_size: int = 8
    timeout_seconds: float = 10.0


class TwilioStyleSender:
    """The SMS channel: one HTTP client (made on first use, inside the event loop) with a pool of keep-alive
    connections."""

    def __init__(self, settings: SmsSettings) -> None:
        self._settings = settings
        base = settings.base_url.rstrip("/")
        self._messages_url = f"{base}/2010-04-01/Accounts/{settings.account_sid}/Messages.json"
        self._account_url = f"{base}/2010-04-01/Accounts/{settings.account_sid}.json"
        self._auth_header = {"Authorization": aiohttp.encode_basic_auth(settings.account_sid, settings.auth_token)}
        self._session: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            s = self._settings
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=s.pool_size, ttl_dns_cache=300),
                headers=self._auth_header,  # aiohttp 3.14 deprecates BasicAuth and auth=
                timeout=aiohttp.ClientTimeout(total=s.timeout_seconds),
                trust_env=False,  # the provider is named in settings; an HTTP(S)_PROXY must not reroute it
                raise_for_status=False,
            )
        return self._session

    async def send(self, notification: Notification) -> Outcome:
        form = {"To": notification.address, "From": self._settings.from_number, "Body": notification.content.text}
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            # Providers that honour an idempotency key drop a copy sent again after a crash.
            "Idempotency-Key": str(notification.id),
        }
        try:
            async with self._client().post(self._messages_url, data=urlencode(form), headers=headers) as response:
                status, reason, body = response.status, response.reason or "", await response.read()
                wait = _retry_after(response.headers.get("Retry-After", ""))
        except _NOT_CONNECTED as error:
            raise ChannelUnavailable(f"cannot reach the SMS provider: {error!r}") from error
        except _UNREACHABLE as error:
            log.warning("no answer from the SMS provider to %s: it may have gone; retried later", notification.name)
            reason = f"unknown outcome, no answer from the provider: {type(error).__name__} {error}"
            return Failed(reason.strip(), transient=True, retry_after=UNKNOWN_OUTCOME_WAIT)
        detail = _json(body)
        if status in (200, 201):
            return Sent(str(detail.get("sid", "")))
        explained = f"{status} {detail.get('code', '')} {detail.get('message', reason)}"
        if status in (401, 403):
            raise ChannelRefused(f"the SMS provider refuses the library: {explained}")
        if status == 429:
            return Failed(f"provider rate-limited: {explained}", transient=True, retry_after=wait)
        return Failed(explained.strip(), transient=status >= 500)

    async def probe(self) -> None:
        try:
            async with self._client().get(self._account_url) as response:
                status = response.status
                await response.read()
        except _UNREACHABLE as error:
            raise ChannelUnavailable(f"cannot reach the SMS provider: {error!r}") from error
        if status != 200:
            raise ChannelUnavailable(f"the SMS provider answers {status}")

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()


def _retry_after(value: str) -> timedelta | None:
    """The provider's Retry-After in seconds (an HTTP date is rare from an API: ignored), at most an hour."""
    try:
        seconds = float(value.strip())
    except ValueError:
        return None
    if not 0 < seconds < MAX_RETRY_AFTER.total_seconds():  # also nan and inf
        return MAX_RETRY_AFTER if seconds >= MAX_RETRY_AFTER.total_seconds() else None
    return timedelta(seconds=seconds)


def _json(body: bytes) -> dict[str, object]:
    try:
        found = json.loads(body)
    except ValueError:
        return {}
    return found if isinstance(found, dict) else {}
