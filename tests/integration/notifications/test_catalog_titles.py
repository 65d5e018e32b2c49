"""The titles notifications asks the catalog for, over a real grpc.aio server standing in for the catalog:
a catalog refusing calls for a moment (just restarted, not yet taken back by the sidecar) is waited for; one
that stays unreachable is not asked again for a while, and the notification goes out without a title."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

import grpc
import pytest

from athenaeum.catalog.v1 import catalog_pb2, catalog_pb2_grpc
from services.notifications.data import peers
from services.notifications.data.peers import CatalogTitles

pytestmark = pytest.mark.integration


@dataclass
class Catalog(catalog_pb2_grpc.CatalogServiceServicer):
    refusals: int = 0
    calls: int = 0

    async def GetBook(self, request: catalog_pb2.GetBookRequest, context: grpc.aio.ServicerContext) -> catalog_pb2.Book:
        self.calls += 1
        if self.refusals:
            self.refusals -= 1
            await context.abort(grpc.StatusCode.UNAVAILABLE, "no healthy upstream")
        if request.name != "books/known":
            await context.abort(grpc.StatusCode.NOT_FOUND, f"{request.name} not found")
        return catalog_pb2.Book(name=request.name, title="Oblomov")


@pytest.fixture
async def served() -> AsyncIterator[tuple[Catalog, CatalogTitles]]:
    catalog, server = Catalog(), grpc.aio.server()
    catalog_pb2_grpc.add_CatalogServiceServicer_to_server(catalog, server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        yield catalog, CatalogTitles(channel, timeout_seconds=2)
    await server.stop(None)


async def test_a_catalog_refusing_calls_for_a_moment_is_waited_for(served) -> None:
    catalog, titles = served
    catalog.refusals = 3
    assert await titles.book_title("books/known") == "Oblomov"
    assert catalog.calls == 4


async def test_an_unreachable_catalog_is_given_up_on_and_not_asked_again_for_a_while(served, monkeypatch) -> None:
    catalog, titles = served
    monkeypatch.setattr(peers, "WAIT_FOR_CATALOG_SECONDS", 0.5)
    catalog.refusals = 1_000
    started = time.monotonic()
    assert await titles.book_title("books/known") == ""
    assert 0.5 <= time.monotonic() - started < 2.0
    asked = catalog.calls
    assert await titles.book_title("books/other") == "" and catalog.calls == asked  # skipped meanwhile


async def test_a_book_the_catalog_does_not_have_is_answered_at_once_without_a_title(served) -> None:
    catalog, titles = served
    assert await titles.book_title("books/gone") == "" and catalog.calls == 1
    assert await titles.book_title("books/gone") == "" and catalog.calls == 1  # not asked again for a minute


async def test_a_catalog_found_down_is_then_asked_once_without_waiting_until_it_answers(served, monkeypatch) -> None:
    catalog, titles = served
    # A wait of 1.5 s, so that "no wait" has room on a loaded machine (0.3 s of 0.5 was exceeded at times).
    monkeypatch.setattr(peers, "WAIT_FOR_CATALOG_SECONDS", 1.5)
    monkeypatch.setattr(peers, "SKIP_UNREACHABLE_CATALOG_SECONDS", 0.05)
    catalog.refusals = 1_000
    assert await titles.book_title("books/known") == ""  # waited for, then given up on
    await asyncio.sleep(0.06)
    asked, started = catalog.calls, time.monotonic()
    assert await titles.book_title("books/known") == ""
    assert catalog.calls == asked + 1 and time.monotonic() - started < 1.5  # one call, no wait
    catalog.refusals = 0
    await asyncio.sleep(0.06)
    assert await titles.book_title("books/known") == "Oblomov"
    # Back to normal: a catalog refusing for a moment is waited for again. Three refusals take 0.7-1.0 s of
    # jittered back-off, so the wait is the service's own again (at 0.5 s the fourth call sometimes never came).
    monkeypatch.setattr(peers, "WAIT_FOR_CATALOG_SECONDS", 3.0)
    catalog.refusals = 3
    assert await titles.book_title("books/known-too") == ""  # (the catalog has no such book)
    assert catalog.calls == asked + 2 + 4
