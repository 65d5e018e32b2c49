"""The local sinks' HTTP side on aiohttp's low-level server: keep-alive HTTP/1.1 on the sinks' own event loop
(no thread per connection), enough for a Twilio-style client (httpx, aiohttp, curl), the sinks' web pages and
their JSON. Pages are answered from memory by a plain function; a route that stores (a message sent) may be a
coroutine function, answering once the message is on disk."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping

from aiohttp import web

Headers = Mapping[str, str]
"""Request headers; `get` takes any case (aiohttp's case-insensitive mapping)."""
Answer = tuple[int, str, bytes]
Routes = Callable[[str, str, Headers, bytes], Answer | Awaitable[Answer]]
"""`routes(method, path with query, headers, body)` -> (status, content type, payload), or an awaitable of it."""

_MAX_BODY = 16 * 1024 * 1024


async def serve_http(port: int, routes: Routes, *, host: str = "127.0.0.1") -> asyncio.Server:
    """Listen on host:port (loopback unless told) and answer with `routes`."""

    async def answer(request: web.BaseRequest) -> web.Response:
        body = await request.read()
        answered = routes(request.method, request.path_qs, request.headers, body)
        status, content_type, payload = answered if isinstance(answered, tuple) else await answered
        return web.Response(status=status, body=payload, headers={"Content-Type": content_type})

    server = web.Server(answer, client_max_size=_MAX_BODY)
    loop = asyncio.get_running_loop()
    # A client opening its whole pool at once must not meet resets: a backlog well above the usual 5.
    return await loop.create_server(server, host, port, backlog=512, reuse_address=True)
