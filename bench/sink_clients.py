"""What the local sinks take with no notifications service in front: sends/s from the client libraries alone
(aiosmtplib; httpx, the SMS client before issue 11, and aiohttp, the one after) and from a bare asyncio client
(SMTP with PIPELINING, HTTP/1.1 keep-alive, one request written in one go), which shows the sinks' own ceiling."""

from __future__ import annotations

import asyncio
import base64
import time
import uuid
from collections.abc import Awaitable, Callable
from email.message import EmailMessage
from urllib.parse import urlencode, urlparse

import aiohttp
import aiosmtplib
import httpx

from services.support.launcher.sink_servers import SinkAddresses

ACCOUNT, TOKEN = "ACathenaeumdev", "dev-only-sms-token"
SMS_PATH = f"/2010-04-01/Accounts/{ACCOUNT}/Messages.json"
FORM = {"To": "+79990000000", "From": "+1", "Body": "baseline"}


def _message() -> EmailMessage:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "b@x.org", "base@x.org", "baseline"
    message["Message-ID"] = f"<baseline-{uuid.uuid4()}@x.org>"
    message.set_content("baseline text " * 20)
    message.add_alternative("<p>baseline html</p>" * 20, subtype="html")
    return message


async def _rate(count: int, workers: int, work: Callable[[list[int]], Awaitable[None]]) -> float:
    queue = list(range(count))

    async def worker() -> None:
        await work(queue)

    started = time.monotonic()
    await asyncio.gather(*(worker() for _ in range(workers)))
    return count / (time.monotonic() - started)


async def smtp_library(addresses: SinkAddresses, *, count: int, pool: int) -> float:
    """aiosmtplib sends/s, `pool` connections."""

    async def work(queue: list[int]) -> None:
        async with aiosmtplib.SMTP(hostname="127.0.0.1", port=addresses.smtp_port) as smtp:
            while queue:
                queue.pop()
                await smtp.send_message(_message())

    return await _rate(count, pool, work)


async def sms_httpx(addresses: SinkAddresses, *, count: int, pool: int) -> float:
    async with httpx.AsyncClient(
        base_url=addresses.sms_url, auth=(ACCOUNT, TOKEN), limits=httpx.Limits(max_connections=pool)
    ) as client:

        async def work(queue: list[int]) -> None:
            while queue:
                queue.pop()
                await client.post(SMS_PATH, data=FORM)

        return await _rate(count, pool, work)


async def sms_aiohttp(addresses: SinkAddresses, *, count: int, pool: int) -> float:
    connector = aiohttp.TCPConnector(limit=pool)
    async with aiohttp.ClientSession(connector=connector, auth=aiohttp.BasicAuth(ACCOUNT, TOKEN)) as client:

        async def work(queue: list[int]) -> None:
            while queue:
                queue.pop()
                async with client.post(addresses.sms_url + SMS_PATH, data=FORM) as response:
                    await response.read()

        return await _rate(count, pool, work)


async def _smtp_reply(reader: asyncio.StreamReader) -> bytes:
    while True:
        line = await reader.readline()
        if line[3:4] != b"-":
            return line


async def smtp_bare(addresses: SinkAddresses, *, count: int, pool: int) -> float:
    """A bare SMTP client: MAIL, RCPT and DATA in one write (the sink offers PIPELINING), then the message."""
    body = _message().as_bytes().replace(b"\n", b"\r\n") + b"\r\n.\r\n"

    async def work(queue: list[int]) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", addresses.smtp_port)
        await _smtp_reply(reader)
        writer.write(b"EHLO bench\r\n")
        assert b"PIPELINING" in await _ehlo(reader)
        while queue:
            queue.pop()
            writer.write(b"MAIL FROM:<b@x.org>\r\nRCPT TO:<base@x.org>\r\nDATA\r\n")
            for expected in (b"250", b"250", b"354"):
                assert (await _smtp_reply(reader)).startswith(expected)
            writer.write(body)
            assert (await _smtp_reply(reader)).startswith(b"250")
        writer.write(b"QUIT\r\n")
        await _smtp_reply(reader)
        writer.close()

    return await _rate(count, pool, work)


async def _ehlo(reader: asyncio.StreamReader) -> bytes:
    lines = b""
    while True:
        line = await reader.readline()
        lines += line
        if line[3:4] != b"-":
            return lines


async def sms_bare(addresses: SinkAddresses, *, count: int, pool: int) -> float:
    """A bare HTTP/1.1 keep-alive client: each request in one write, the answer read by its Content-Length."""
    url = urlparse(addresses.sms_url)
    form = urlencode(FORM).encode()
    auth = base64.b64encode(f"{ACCOUNT}:{TOKEN}".encode()).decode()
    request = (
        f"POST {SMS_PATH} HTTP/1.1\r\nHost: {url.netloc}\r\nAuthorization: Basic {auth}\r\n"
        f"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {len(form)}\r\n\r\n"
    ).encode() + form

    async def work(queue: list[int]) -> None:
        reader, writer = await asyncio.open_connection(url.hostname, url.port)
        while queue:
            queue.pop()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            assert head.startswith(b"HTTP/1.1 201")
            length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
            await reader.readexactly(length)
        writer.close()

    return await _rate(count, pool, work)
