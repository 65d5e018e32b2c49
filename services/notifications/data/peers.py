"""The catalog, for the titles of books that hold events name only by resource name. Cached: a title is
asked once per process (titles rarely change, and a notification with a stale title is still right); a
book the catalog could not name is not asked again for a minute (a catalog that is down is not hammered).

A catalog that cannot be reached is waited for a few seconds before a notification goes out without the
title: one that has just restarted is taken back by this service's sidecar at its next health check, within
two seconds, and until then every call is refused at once. After such a wait the catalog is taken for down:
it is not asked at all for a few seconds, then asked once, without waiting, until it answers again. Every
event of a fetch waits for the titles of its batch, so a wait per skipped interval would hold the whole
intake up for three seconds in every thirteen for as long as the catalog is away (bench/README.md)."""

from __future__ import annotations

import logging
import time
from collections import OrderedDict

import grpc
import tenacity

from athenaeum.catalog.v1 import catalog_pb2, catalog_pb2_grpc

log = logging.getLogger("athenaeum.notifications.catalog")
CACHE_SIZE = 10_000
RETRY_UNKNOWN_AFTER_SECONDS = 60.0
WAIT_FOR_CATALOG_SECONDS = 3.0
SKIP_UNREACHABLE_CATALOG_SECONDS = 10.0


class CatalogTitles:
    def __init__(self, channel: grpc.aio.Channel, *, timeout_seconds: float = 2.0) -> None:
        self._stub = catalog_pb2_grpc.CatalogServiceStub(channel)
        self._timeout = timeout_seconds
        self._titles: OrderedDict[str, str] = OrderedDict()
        self._unknown_until: dict[str, float] = {}
        self._unreachable_until = 0.0
        self._down = False
        """The last wait for the catalog ended without an answer: ask once, do not wait, until it answers."""

    async def book_title(self, book: str) -> str:
        if book in self._titles:
            self._titles.move_to_end(book)
            return self._titles[book]
        now = time.monotonic()
        if self._unknown_until.get(book, 0.0) > now or self._unreachable_until > now:
            return ""
        try:
            found = await (self._ask(book) if self._down else self._get_book(book))
        except grpc.aio.AioRpcError as error:
            log.warning("no title for %s: %s", book, error.code().name)
            if error.code() == grpc.StatusCode.UNAVAILABLE:
                self._down = True
                self._unreachable_until = time.monotonic() + SKIP_UNREACHABLE_CATALOG_SECONDS
                return ""
            self._down = False  # it answered
            if len(self._unknown_until) > CACHE_SIZE:
                self._unknown_until.clear()
            self._unknown_until[book] = time.monotonic() + RETRY_UNKNOWN_AFTER_SECONDS
            return ""
        self._down = False
        self._titles[book] = found.title
        if len(self._titles) > CACHE_SIZE:
            self._titles.popitem(last=False)
        return found.title

    async def _get_book(self, book: str) -> catalog_pb2.Book:
        """GetBook, asked again while the catalog is unreachable, for up to WAIT_FOR_CATALOG_SECONDS."""
        retrying = tenacity.AsyncRetrying(
            stop=tenacity.stop_after_delay(WAIT_FOR_CATALOG_SECONDS),
            wait=tenacity.wait_exponential_jitter(multiplier=0.1, max=1.0, jitter=0.1),
            retry=tenacity.retry_if_exception(_unreachable),
            reraise=True,
        )

        return await retrying(self._ask, book)

    async def _ask(self, book: str) -> catalog_pb2.Book:
        return await self._stub.GetBook(catalog_pb2.GetBookRequest(name=book), timeout=self._timeout)


def _unreachable(error: BaseException) -> bool:
    return isinstance(error, grpc.aio.AioRpcError) and error.code() == grpc.StatusCode.UNAVAILABLE
