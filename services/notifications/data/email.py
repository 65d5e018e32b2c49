"""Email over SMTP (aiosmtplib): a pool of connections kept open and reused, STARTTLS and login as the
settings say. The server's answer decides the outcome: 2xx sent, 4xx try again later, 5xx failed for good;
no connection at all means the channel is down (nothing was attempted)."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

import aiosmtplib

from services.notifications.app.ports import ChannelUnavailable
from services.notifications.data.mime import MimeWriter
from services.notifications.domain.delivery import Failed, Outcome, Sent
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
    socket_path: str = ""
    """A Unix socket to connect to instead of host:port (the local mesh's sink)."""


class SmtpSender:
    """The email channel. Up to `pool_size` messages are in flight, each on its own connection."""

    def __init__(self, settings: SmtpSettings) -> None:
        self._settings = settings
        self._idle: list[aiosmtplib.SMTP] = []
        self._slots = asyncio.Semaphore(settings.pool_size)
        domain = settings.from_address.rpartition("@")[2] or "athenaeum.local"
        self._mime = MimeWriter(from_address=settings.from_address, from_name=settings.from_name, domain=domain)

    async def send(self, notification: Notification) -> Outcome:
        message = self._mime.message(notification)
        async with self._slots:
            client = await self._checkout()
            try:
                await client.sendmail(self._settings.from_address, [notification.address], message)
            except aiosmtplib.SMTPRecipientsRefused as refused:
                self._idle.append(client)
                code, text = _first_refusal(refused)
                return Failed(f"{code} {text}", transient=400 <= code < 500)
            except aiosmtplib.SMTPResponseException as error:
                self._idle.append(client)
                return Failed(f"{error.code} {error.message}", transient=400 <= error.code < 500)
            except _CONNECTION_LOST as error:
                client.close()
                raise ChannelUnavailable(f"the mail server went away: {error}") from error
            self._idle.append(client)
        return Sent(self._mime.message_id(notification))

    async def probe(self) -> None:
        async with self._slots:
            client = await self._checkout()
            try:
                await client.noop()
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
            port=None if s.socket_path else s.port,
            socket_path=s.socket_path or None,
            use_tls=s.implicit_tls,
            start_tls=None if s.implicit_tls else s.starttls,
            username=s.username or None,
            password=s.password or None,
            timeout=s.timeout_seconds,
        )
        try:
            await client.connect()
        except (aiosmtplib.SMTPException, *_CONNECTION_LOST) as error:
            where = s.socket_path or f"{s.host}:{s.port}"
            raise ChannelUnavailable(f"cannot reach the mail server {where}: {error}") from error
        return client

    async def close(self) -> None:
        idle, self._idle = self._idle, []
        for client in idle:
            try:
                await client.quit()
            except Exception:  # already gone: nothing to say goodbye to
                client.close()


def _first_refusal(refused: aiosmtplib.SMTPRecipientsRefused) -> tuple[int, str]:
    for error in refused.recipients:
        return error.code, error.message
    return 550, "recipient refused"
