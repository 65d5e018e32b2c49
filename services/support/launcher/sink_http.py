"""The local sinks' HTTP side on aiohttp's low-level server: keep-alive HTTP/1.1 on the sinks' own event loop
(no thread per connection), enough for a Twilio-style client (httpx, aiohttp, curl), the sinks' web pages and
their JSON. Pages are answered from memory by a plain function; a route that stores (a message sent) may be a
coroutine function, answering once the message is on disk."""

from __future__ import annotations

import asyncio
import base64
import hmac
import os
from collections.abc import Awaitable, Callable, Collection, Mapping
from pathlib import Path

from aiohttp import web

Headers = Mapping[str, str]
"""Request headers; `get` takes any case (aiohttp's case-insensitive mapping)."""
Answer = tuple[int, str, bytes]
Routes = Callable[[str, str, Headers, bytes], Answer | Awaitable[Answer]]
"""`routes(method, path with query, headers, body)` -> (status, content type, payload), or an awaitable of it."""

_MAX_BODY = 16 * 1024 * 1024
READER = "athenaeum"
"""The user name a person (or `athenaeum mail`) reads the sinks' pages with; the password is the mesh's own."""
OPEN_PATHS = ("/stats",)
"""Counts only, no message: what readiness probes and `status` poll without a password."""


def basic_authorization(user: str, password: str) -> str:
    """The Authorization header value of HTTP Basic."""
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def readers_only(routes: Routes, allowed: Collection[str]) -> Routes:
    """`routes`, with every GET but OPEN_PATHS answered 401 unless it carries one of the `allowed`
    Authorization values: the messages hold addresses, phone numbers and security notices, and the port on
    127.0.0.1 is open to every account of the machine, not only the mesh's (POSTs check their own)."""

    def guarded(method: str, path: str, headers: Headers, body: bytes) -> Answer | Awaitable[Answer]:
        given = (headers.get("Authorization") or "").encode()
        if method == "POST" or path.split("?", 1)[0] in OPEN_PATHS:
            return routes(method, path, headers, body)
        if any(hmac.compare_digest(given, value.encode()) for value in allowed):
            return routes(method, path, headers, body)
        return 401, "application/json", b'{"message": "sign in: user athenaeum, the password in the sinks folder"}'

    return guarded


async def serve_http(
    port: int, routes: Routes, *, host: str = "127.0.0.1", socket_path: Path | None = None
) -> asyncio.Server:
    """Listen on host:port (loopback unless told), or on the Unix socket `socket_path` (mode 0600), and answer
    with `routes`."""

    async def answer(request: web.BaseRequest) -> web.Response:
        body = await request.read()
        answered = routes(request.method, request.path_qs, request.headers, body)
        status, content_type, payload = answered if isinstance(answered, tuple) else await answered
        headers = {"Content-Type": content_type}
        if status == 401:  # a browser then asks for the user name and password
            headers["WWW-Authenticate"] = 'Basic realm="athenaeum sinks", charset="UTF-8"'
        return web.Response(status=status, body=payload, headers=headers)

    server = web.Server(answer, client_max_size=_MAX_BODY)
    if socket_path is not None:
        return await serve_unix(server, socket_path)
    loop = asyncio.get_running_loop()
    # A client opening its whole pool at once must not meet resets: a backlog well above the usual 5.
    return await loop.create_server(server, host, port, backlog=512, reuse_address=True)


async def serve_unix(factory: Callable[[], asyncio.BaseProtocol], path: Path) -> asyncio.Server:
    """Listen on the Unix socket `path`, for its owner only (a stale socket of an earlier run is replaced)."""
    loop = asyncio.get_running_loop()
    server = await loop.create_unix_server(factory, str(path), backlog=512)
    os.chmod(path, 0o600)  # the folder is the owner's only already; the socket says so too
    return server
