"""A TCP proxy in front of a Postgres socket that can drop its connections silently, as a NAT, a firewall or a
load balancer does with a flow idle past its timeout: neither end is told, the bytes of those connections go
nowhere, and connections opened afterwards pass as before."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from sqlalchemy.engine import make_url


class SilentProxy:
    def __init__(self, server_url: str) -> None:
        query = make_url(server_url).query
        self._socket = f"{query['host']}/.s.PGSQL.{query['port']}"  # a LocalPostgres: its Unix socket
        self._url = make_url(server_url)
        self._flows: list[list[bool]] = []  # each connection's "still forwarded" flag
        self._tasks: set[asyncio.Task[None]] = set()
        self._writers: list[asyncio.StreamWriter] = []
        self._server: asyncio.Server | None = None

    def url_for(self, database: str) -> str:
        """The URL of `database` through this proxy."""
        assert self._server is not None
        port = self._server.sockets[0].getsockname()[1]
        url = self._url.set(host="127.0.0.1", port=port, database=database, query={})
        return url.render_as_string(hide_password=False)

    def drop_silently(self) -> None:
        """The connections open now forward nothing more, in either direction, and none is closed."""
        for flow in self._flows:
            flow[0] = False

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        upstream_reader, upstream_writer = await asyncio.open_unix_connection(self._socket)
        flow = [True]
        self._flows.append(flow)
        self._writers += [writer, upstream_writer]
        for source, sink in ((reader, upstream_writer), (upstream_reader, writer)):
            task = asyncio.create_task(_pipe(source, sink, flow))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[SilentProxy]:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        try:
            yield self
        finally:
            self._server.close()
            for task in list(self._tasks):
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
            for writer in self._writers:
                writer.close()


async def _pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter, flow: list[bool]) -> None:
    try:
        while data := await source.read(65536):
            if flow[0]:
                sink.write(data)
                await sink.drain()
    except (ConnectionError, asyncio.CancelledError):
        pass
    finally:
        if flow[0]:
            sink.close()  # a dropped flow's end goes unseen too
