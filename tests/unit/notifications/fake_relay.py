"""A real SMTP server on 127.0.0.1 (raw asyncio, a few lines of the protocol) whose answers a test chooses:
a reply to MAIL FROM or RCPT TO, a pause before the reply to the end of the message, or a connection dropped
there. It keeps every message it received whole (up to the final "."), whatever it answered."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field


@dataclass
class Relay:
    mail_reply: str = "250 2.1.0 Ok"
    rcpt_reply: str = "250 2.1.5 Ok"
    end_pause: float = 0.0
    """Seconds before answering the final "."."""
    drop_after_data: bool = False
    """Close the connection instead of answering the final "."."""
    received: list[bytes] = field(default_factory=list)
    port: int = 0

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        def say(line: str) -> None:
            writer.write(line.encode() + b"\r\n")

        say("220 relay.test ESMTP")
        try:
            while line := await reader.readline():
                verb = line.decode(errors="replace").strip().upper()
                if verb.startswith("EHLO"):
                    say("250-relay.test\r\n250-SIZE 10000000\r\n250 8BITMIME")
                elif verb.startswith("MAIL"):
                    say(self.mail_reply)
                elif verb.startswith("RCPT"):
                    say(self.rcpt_reply)
                elif verb == "DATA":
                    say("354 go on")
                    await writer.drain()
                    if not await self._message(reader, writer):
                        return
                elif verb == "QUIT":
                    say("221 bye")
                    return
                else:  # RSET, NOOP, HELO
                    say("250 Ok")
                await writer.drain()
        finally:
            writer.close()

    async def _message(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        lines = []
        while (line := await reader.readline()) not in (b".\r\n", b""):
            lines.append(line)
        self.received.append(b"".join(lines))
        if self.drop_after_data:
            return False
        await asyncio.sleep(self.end_pause)
        writer.write(b"250 2.0.0 queued as X\r\n")
        return True


@asynccontextmanager
async def running(relay: Relay) -> AsyncIterator[Relay]:
    server = await asyncio.start_server(relay.serve, "127.0.0.1", 0)
    relay.port = server.sockets[0].getsockname()[1]
    try:
        yield relay
    finally:
        server.close()
