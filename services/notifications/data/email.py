"""Email over SMTP (aiosmtplib): a pool of connections kept open and reused, STARTTLS and login as the
settings say. The server's answer decides the outcome: 2xx sent, 4xx try again later, 5xx failed for good.
No connection, or one lost before the message was sent, means the channel is down (nothing was attempted);
a refused login or sender (MAIL FROM), or a relay denied, means the server refuses the library, not this
message: the channel is down too (ChannelRefused), the notification waits.

Once the message is sent, the reply to its end (the final ".") may take long: a relay scans it, signs it,
asks a DNSBL. RFC 5321 §4.5.3.2.6 has the client wait 10 minutes for it (`data_timeout_seconds`), since a
client that gives up early may have had its message accepted and sends a duplicate. No reply at all (the
wait ran out, the connection dropped) is an unknown outcome: the message may have been delivered. It is an
attempt (counted, so `max_attempts` ends it) retried after at least `UNKNOWN_OUTCOME_WAIT`, with the same
Message-ID (data/mime.py) so that a receiving system may drop the copy."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

import aiosmtplib

from services.notifications.app.ports import ChannelRefused, ChannelUnavailable
from services.notifications.data.mime import MimeWriter
from services.notifications.domain.delivery import UNKNOWN_OUTCOME_WAIT, Failed, Outcome, Sent
from services.notifications.domain.notifications import Notification

log = logging.getLogger("athenaeum.notifications.email")

_CONNECTION_LOST = (
    aiosmtplib.SMTPConnectError,
    aiosmtplib.SMTPServerDisconnected,
    aiosmtplib.SMTPTimeoutError,
    ConnectionError,
    OSError,
    TimeoutError,
)


@dataclass(frozen=True, slots=True)
class SmtpSettings:
    host: str
    port: int
    from_address: str
    from_name: str = ""
    username: str = ""
    password: str = ""
    starttls: bool | None = None
    """True: demand STARTTLS; None: use it when the server offers it; False: never."""
    implicit_tls: bool = False
    """TLS from the first byte (port 465)."""
    pool_size: int = 4
    timeout_seconds: float = 10.0
    """For each command but the end of the message."""
    data_timeout_seconds: float = 600.0
    """For the reply to the end of the message (RFC 5321 §4.5.3.2.6: 10 minutes)."""
    preferences_url: str = ""
    """The web page where a reader stops subscribed mail (List-Unsubscribe); none if empty."""


class SmtpSender:
    """The email channel. Up to `pool_size` messages are in flight, each on its own connection."""

    def __init__(self, settings: SmtpSettings) -> None:
        self._settings = settings
        self._idle: list[aiosmtplib.SMTP] = []
        self._slots = asyncio.Semaphore(settings.pool_size)
        domain = settings.from_address.rpartition("@")[2] or "athenaeum.local"
        self._mime = MimeWriter(
            from_address=settings.from_address,
            from_name=settings.from_name,
            domain=domain,
            preferences_url=settings.preferences_url,
        )

    async def send(self, notification: Notification) -> Outcome:
        message = self._mime.message(notification)
        async with self._slots:
            client = await self._checkout()
            try:
                await self._envelope(client, notification.address, message)
            except aiosmtplib.SMTPRecipientRefused as refused:
                await self._reset(client)
                if _refuses_the_library(refused.code, refused.message):
                    raise _refusal(refused) from refused
                return Failed(f"{refused.code} {refused.message}", transient=400 <= refused.code < 500)
            except aiosmtplib.SMTPResponseException as error:  # MAIL FROM refused: the library, not the message
                await self._reset(client)
                raise _refusal(error) from error
            except _CONNECTION_LOST as error:  # before the message went: nothing was attempted
                client.close()
                raise ChannelUnavailable(f"the mail server went away: {error}") from error
            return await self._transfer(client, message, notification)

    async def _envelope(self, client: aiosmtplib.SMTP, address: str, message: bytes) -> None:
        """MAIL FROM (with the size, when the server takes it) and RCPT TO, each with the short timeout."""
        options = [f"SIZE={len(message)}"] if client.supports_extension("size") else []
        await client.mail(self._settings.from_address, options=options)
        await client.rcpt(address)

    async def _transfer(self, client: aiosmtplib.SMTP, message: bytes, notification: Notification) -> Outcome:
        try:
            await client.data(message, timeout=self._settings.data_timeout_seconds)
        except aiosmtplib.SMTPResponseException as error:
            await self._reset(client)
            return Failed(f"{error.code} {error.message}", transient=400 <= error.code < 500)
        except _CONNECTION_LOST as error:
            client.close()
            log.warning("no answer to the end of %s: it may have been delivered; retried later", notification.name)
            reason = f"unknown outcome, no answer to the end of the message: {type(error).__name__} {error}"
            return Failed(reason, transient=True, retry_after=UNKNOWN_OUTCOME_WAIT)
        self._idle.append(client)
        return Sent(self._mime.message_id(notification))

    async def _reset(self, client: aiosmtplib.SMTP) -> None:
        """RSET after a refusal, so the connection can carry the next message; one that fails is dropped."""
        try:
            await client.rset()
        except (aiosmtplib.SMTPException, *_CONNECTION_LOST):
            client.close()
            return
        self._idle.append(client)

    async def probe(self) -> None:
        async with self._slots:
            client = await self._checkout()
            try:
                # MAIL FROM then RSET: a server that answers NOOP may still refuse the sender (N2).
                await client.mail(self._settings.from_address)
                await client.rset()
            except aiosmtplib.SMTPResponseException as error:
                await self._reset(client)
                raise _refusal(error) from error
            except (aiosmtplib.SMTPException, *_CONNECTION_LOST) as error:
                client.close()
                raise ChannelUnavailable(f"the mail server does not answer: {error}") from error
            self._idle.append(client)

    def message(self, n: Notification) -> bytes:
        """The email as sent."""
        return self._mime.message(n)

    async def _checkout(self) -> aiosmtplib.SMTP:
        while self._idle:
            client = self._idle.pop()
            if client.is_connected:
                return client
        s = self._settings
        client = aiosmtplib.SMTP(
            hostname=s.host,
            port=s.port,
            use_tls=s.implicit_tls,
            start_tls=None if s.implicit_tls else s.starttls,
            username=s.username or None,
            password=s.password or None,
            timeout=s.timeout_seconds,
        )
        try:
            await client.connect()
        except aiosmtplib.SMTPAuthenticationError as error:
            raise _refusal(error) from error
        except (aiosmtplib.SMTPException, *_CONNECTION_LOST) as error:
            raise ChannelUnavailable(f"cannot reach the mail server {s.host}:{s.port}: {error}") from error
        return client

    async def close(self) -> None:
        idle, self._idle = self._idle, []
        for client in idle:
            try:
                await client.quit()
            except Exception:  # already gone: nothing to say goodbye to
                client.close()


def _refuses_the_library(code: int, text: str) -> bool:
    """A recipient refusal that is about the sender: authentication wanted (530, 5.7.0), or a relay denied
    (Postfix's "554 5.7.1 Relay access denied" comes at RCPT TO)."""
    lowered = text.lower()
    return code == 530 or "5.7.0" in lowered or "relay access denied" in lowered or "relaying denied" in lowered


def _refusal(error: aiosmtplib.SMTPResponseException) -> ChannelUnavailable:
    """A 5xx (or the 530 asking for a login) refuses the library until someone acts; a 4xx (421 closing,
    451 local error) is an outage that passes."""
    if error.code >= 500 or isinstance(error, aiosmtplib.SMTPAuthenticationError):
        return ChannelRefused(f"the mail server refuses the library's mail: {error.code} {error.message}")
    return ChannelUnavailable(f"the mail server cannot take mail now: {error.code} {error.message}")
