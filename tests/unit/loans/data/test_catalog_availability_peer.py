"""Loans' catalog peer asks BatchGetBookAvailability a hundred books at a time, and lists the item types page by
page, and hears the catalog's servicer right (its answers wired straight to the servicer over the in-memory
catalog)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import grpc

from services.catalog.api.servicer import CatalogServicer
from services.catalog.domain.books import Book, BookDetails
from services.catalog.domain.copies import Copy
from services.catalog.domain.copy_values import CopyDetails, CopyStatus
from services.catalog.domain.item_types import ItemType
from services.loans.data.peers import AVAILABILITY_BATCH, GrpcCatalog
from services.support.runtime.clock import FixedClock
from tests.unit.catalog.fakes import FakeCatalog

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


class _Wired:
    """The stub's one call, answered by the servicer; the requests it got."""

    def __init__(self, servicer: CatalogServicer) -> None:
        self.servicer = servicer
        self.requests: list[Any] = []

    def BatchGetBookAvailability(self, request: Any, *, timeout: float) -> Any:
        self.requests.append(request)
        return self.servicer.BatchGetBookAvailability(request, None)  # type: ignore[arg-type]

    def ListItemTypes(self, request: Any, *, timeout: float) -> Any:
        self.requests.append(request)
        return self.servicer.ListItemTypes(request, None)  # type: ignore[arg-type]


async def test_the_peer_asks_a_hundred_books_a_call_and_leaves_out_those_the_catalog_does_not_have() -> None:
    catalog = FakeCatalog()
    shelved = []
    for n in range(AVAILABILITY_BATCH + 20):
        book = Book.register(BookDetails(title=f"Title {n}"), now=NOW)
        catalog.state.books[book.id] = book
        for _ in range(n % 3):
            copy = Copy.register(
                book.id, CopyDetails(barcode=f"B-{uuid.uuid4().hex[:10]}"), now=NOW, status=CopyStatus.AVAILABLE
            )
            catalog.state.copies[copy.id] = copy
        shelved.append((book.name, n % 3))
    peer = GrpcCatalog(grpc.aio.insecure_channel("localhost:1"), timeout=1.0)
    wired = _Wired(CatalogServicer(uow=catalog, clock=FixedClock(NOW)))
    peer._stub = wired  # type: ignore[assignment]
    gone = f"books/{uuid.uuid4()}"
    found = await peer.availability([gone, *(name for name, _ in shelved)])
    assert found == dict(shelved)
    assert [len(request.books) for request in wired.requests] == [AVAILABILITY_BATCH, 21]


async def test_the_peer_lists_every_item_types_code_over_the_pages() -> None:
    catalog = FakeCatalog()
    for n in range(130):
        kind = ItemType.create(f"KIND{n:03d}", f"Kind {n}", not_for_loan=False, now=NOW)
        catalog.state.item_types[kind.id] = kind
    peer = GrpcCatalog(grpc.aio.insecure_channel("localhost:1"), timeout=1.0)
    wired = _Wired(CatalogServicer(uow=catalog, clock=FixedClock(NOW)))
    peer._stub = wired  # type: ignore[assignment]
    codes = await peer.item_type_codes()
    assert codes == set(catalog.state.item_types) and {f"KIND{n:03d}" for n in range(130)} <= codes
    assert len(wired.requests) >= 2 and all(request.page_size == 100 for request in wired.requests)
