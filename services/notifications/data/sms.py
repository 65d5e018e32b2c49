"""SMS through a provider's HTTP API, Twilio-style: POST /2010-04-01/Accounts/{sid}/Messages.json with To,
From and Body, HTTP Basic auth with the account sid and token. 201 sent; a 4xx about the message (an
invalid number) failed for good; 5xx try again later; no answer, 401/403 or 429 means the channel is down."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import httpx

from services.notifications.app.ports import ChannelUnavailable
from services.notifications.domain.delivery import Failed, Outcome, Sent
from services.notifications.domain.notifications import Notification

log = logging.getLogger("athenaeum.notifications.sms")


@dataclass(frozen=True, slots=True)
class SmsSettings:
    base_url: str
    account_sid: str
    auth_token: str
    from_number: str
    pool_size: int = 8
    timeout_seconds: float = 10.0


class TwilioStyleSender:
    """The SMS channel: one HTTP client with a pool of keep-alive connections."""

    def __init__(self, settings: SmsSettings) -> None:
        self._settings = settings
        self._path = f"/2010-04-01/Accounts/{settings.account_sid}/Messages.json"
        self._client = httpx.AsyncClient(
            base_url=settings.base_url,
            auth=(settings.account_sid, settings.auth_token),
            timeout=settings.timeout_seconds,
            limits=httpx.Limits(max_connections=settings.pool_size, max_keepalive_connections=settings.pool_size),
            trust_env=False,  # the provider is named in settings; an HTTP(S)_PROXY must not reroute it
        )

    async def send(self, notification: Notification) -> Outcome:
        form = {"To": notification.address, "From": self._settings.from_number, "Body": notification.content.text}
        # Providers that honour an idempotency key drop a copy sent again after a crash.
        headers = {"Idempotency-Key": str(notification.id)}
        try:
            response = await self._client.post(self._path, data=form, headers=headers)
        except httpx.HTTPError as error:
            raise ChannelUnavailable(f"cannot reach the SMS provider: {error!r}") from error
        if response.status_code in (200, 201):
            return Sent(str(_json(response).get("sid", "")))
        detail = _json(response)
        reason = f"{response.status_code} {detail.get('code', '')} {detail.get('message', response.reason_phrase)}"
        if response.status_code in (401, 403, 429):
            log.error("the SMS provider refuses every message for now: %s", reason)
            raise ChannelUnavailable(f"the SMS provider refused: {reason}")
        return Failed(reason.strip(), transient=response.status_code >= 500)

    async def probe(self) -> None:
        try:
            response = await self._client.get(f"/2010-04-01/Accounts/{self._settings.account_sid}.json")
        except httpx.HTTPError as error:
            raise ChannelUnavailable(f"cannot reach the SMS provider: {error!r}") from error
        if response.status_code != 200:
            raise ChannelUnavailable(f"the SMS provider answers {response.status_code}")

    async def close(self) -> None:
        await self._client.aclose()


def _json(response: httpx.Response) -> dict[str, object]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
