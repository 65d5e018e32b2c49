"""A small keep-alive HTTP/1.1 server on asyncio for the local sinks: enough for a Twilio-style client (httpx,
aiohttp, curl), the sinks' web pages and their JSON. One event loop, no thread per connection; each answer is
one write (status line, headers and body together), so no Nagle delay and one syscall per request."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from http import HTTPStatus
from typing import Any

Routes = Callable[[str, str, "Headers", bytes], tuple[int, str, bytes]]
"""`routes(method, path, headers, body)` -> (status, content type, payload)."""

_MAX_HEAD = 64 * 1024
_MAX_BODY = 16 * 1024 * 1024


class Headers(dict[str, str]):
    """Request headers by lower-cased name; `get` takes any case."""

    def get(self, name: str, default: Any = None) -> Any:
        return super().get(name.lower(), default)


class _Connection(asyncio.Protocol):
    def __init__(self, routes: Routes) -> None:
        self._routes = routes
        self._buffer = bytearray()
        self._transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport

    def connection_lost(self, exc: Exception | None) -> None:
        self._transport = None

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        while self._transport is not None and self._answer_one():
            pass

    def _answer_one(self) -> bool:
        """Answer the first complete request in the buffer; False when none is complete yet."""
        transport = self._transport
        assert transport is not None
        end = self._buffer.find(b"\r\n\r\n")
        if end < 0:
            if len(self._buffer) > _MAX_HEAD:
                self._reply(transport, 431, "text/plain", b"request head too large", close=True)
            return False
        lines = bytes(self._buffer[:end]).decode("latin-1").split("\r\n")
        try:
            method, target, version = lines[0].split(" ", 2)
        except ValueError:
            self._reply(transport, 400, "text/plain", b"bad request line", close=True)
            return False
        headers = Headers()
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        try:
            length = int(headers.get("content-length") or 0)
        except ValueError:
            length = -1
        if length < 0 or length > _MAX_BODY or "chunked" in (headers.get("transfer-encoding") or ""):
            self._reply(transport, 400, "text/plain", b"a body needs a Content-Length", close=True)
            return False
        if len(self._buffer) < end + 4 + length:
            return False
        body = bytes(self._buffer[end + 4 : end + 4 + length])
        del self._buffer[: end + 4 + length]
        close = (headers.get("connection") or "").lower() == "close" or version == "HTTP/1.0"
        try:
            status, content_type, payload = self._routes(method, target, headers, body)
        except Exception as error:  # a sink's bug must not take its connection's other requests with it
            status, content_type, payload = 500, "text/plain", repr(error).encode()
        self._reply(transport, status, content_type, payload, close=close)
        return not close

    def _reply(
        self, transport: asyncio.Transport, status: int, content_type: str, payload: bytes, *, close: bool
    ) -> None:
        reason = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else ""
        head = (
            f"HTTP/1.1 {status} {reason}\r\nContent-Type: {content_type}\r\nContent-Length: {len(payload)}\r\n"
            f"{'Connection: close' + chr(13) + chr(10) if close else ''}\r\n"
        )
        transport.write(head.encode("latin-1") + payload)
        if close:
            transport.close()
            self._transport = None


async def serve_http(port: int, routes: Routes, *, host: str = "127.0.0.1") -> asyncio.Server:
    """Listen on host:port (loopback unless told) and answer with `routes`."""
    loop = asyncio.get_running_loop()
    # A client opening its whole pool at once must not meet resets: a backlog well above the usual 5.
    return await loop.create_server(lambda: _Connection(routes), host, port, backlog=512, reuse_address=True)
