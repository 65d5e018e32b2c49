"""The catalog, for the titles of books that hold events name only by resource name. Cached: a title is
asked once per process (titles rarely change, and a notification with a stale title is still right); a
book the catalog could not name is not asked again for a minute (a catalog that is down is not hammered)."""

from __future__ import annotations

import logging
import time
from collections import OrderedDict

import grpc

from athenaeum.catalog.v1 import catalog_pb2, catalog_pb2_grpc

log = logging.getLogger("athenaeum.notifications.catalog")
CACHE_SIZE = 10_000
RETRY_UNKNOWN_AFTER_SECONDS = 60.0


class CatalogTitles:
    def __init__(self, channel: grpc.aio.Channel, *, timeout_seconds: float = 2.0) -> None:
        self._stub = catalog_pb2_grpc.CatalogServiceStub(channel)
        self._timeout = timeout_seconds
        self._titles: OrderedDict[str, str] = OrderedDict()
        self._unknown_until: dict[str, float] = {}

    async def book_title(self, book: str) -> str:
        if book in self._titles:
            self._titles.move_to_end(book)
            return self._titles[book]
        if self._unknown_until.get(book, 0.0) > time.monotonic():
            return ""
        try:
            found = await self._stub.GetBook(catalog_pb2.GetBookRequest(name=book), timeout=self._timeout)
        except grpc.aio.AioRpcError as error:
            log.warning("no title for %s: %s", book, error.code().name)
            if len(self._unknown_until) > CACHE_SIZE:
                self._unknown_until.clear()
            self._unknown_until[book] = time.monotonic() + RETRY_UNKNOWN_AFTER_SECONDS
            return ""
        self._titles[book] = found.title
        if len(self._titles) > CACHE_SIZE:
            self._titles.popitem(last=False)
        return found.title
