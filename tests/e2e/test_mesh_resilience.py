"""A peer that fails or hangs: loans answers 503 JSON quickly instead of piling up calls that each wait out
their deadline (the loans sidecar's outlier detection ejects the catalog; calls then fail at once)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import grpc
import httpx
import pytest
from frozen_processes import freeze, thaw
from test_loans_through_the_mesh import new_book, reason
from test_rest_errors import assert_status_json

from athenaeum.catalog.v1 import catalog_pb2, catalog_pb2_grpc
from services.support.launcher.readiness import wait_until

pytestmark = pytest.mark.e2e
UNAVAILABLE = 14
RESOURCE_EXHAUSTED = 8
PEER_TIMEOUT_SECONDS = 5.0
"""The loans service's deadline on each call to a peer (LoansSettings.peer_timeout_seconds)."""


async def _issue(mesh, staff, patron: str, barcode: str) -> tuple[float, httpx.Response]:
    async with httpx.AsyncClient(base_url=mesh.edge_url, timeout=60) as client:
        started = time.monotonic()
        response = await client.post("/v1/loans:issue", json={"patron": patron, "barcode": barcode},
                                     headers=staff.headers)  # fmt: skip
        return time.monotonic() - started, response


def _loans_reaches_the_catalog(mesh) -> bool:
    with grpc.insecure_channel(mesh.outbound_target("loans")) as channel:
        try:
            catalog_pb2_grpc.CatalogServiceStub(channel).ListBooks(catalog_pb2.ListBooksRequest(page_size=1), timeout=2)
        except grpc.RpcError:
            return False
    return True


@pytest.fixture
def hung_catalog(mesh) -> Iterator[None]:
    """The catalog process frozen (SIGSTOP): connections open, nothing answers. Thawed and reachable after."""
    pid = mesh.process("catalog").pid
    freeze(pid)
    try:
        yield
    finally:
        thaw(pid)
        wait_until(lambda: _loans_reaches_the_catalog(mesh), timeout=90, what="loans reaching the catalog again")


async def test_a_hanging_catalog_is_ejected_and_loans_then_answers_503_at_once(
    mesh, edge: httpx.Client, librarian, new_reader, hung_catalog
) -> None:
    patron = new_reader().name
    for attempt in (1, 2):
        first = await asyncio.gather(*(_issue(mesh, librarian, patron, f"HUNG-{attempt}-{i}") for i in range(6)))
        # Calls that hang on the catalog make loans' admission limit shrink: some may be shed (429 OVERLOADED)
        # rather than wait; both answers are quick, retryable and change nothing.
        reasons = [_refusal(response) for _, response in first]
        assert "CATALOG_UNAVAILABLE" in reasons, reasons
        assert max(seconds for seconds, _ in first) < PEER_TIMEOUT_SECONDS + 3  # each waited at most its deadline

        # At once and together: an ejection lasts 5 s, and calls made one after another on a loaded machine
        # could outlast it and reach the still-frozen catalog again. On a machine so loaded that even the
        # first batch's answers outlast it, the second round meets a second ejection, twice as long.
        later = await asyncio.gather(*(_issue(mesh, librarian, patron, f"HUNG-later-{attempt}-{i}") for i in range(3)))
        for _, response in later:
            _refusal(response)
        slowest = max(seconds for seconds, _ in later)
        if slowest < 2.0:
            return
    pytest.fail(f"{slowest:.2f}s: the catalog was not ejected")


def _refusal(response: httpx.Response) -> str:
    """The reason of a 503 UNAVAILABLE or a 429 RESOURCE_EXHAUSTED (shed by admission) answer."""
    if response.status_code == 429:
        assert_status_json(response, 429, RESOURCE_EXHAUSTED)
        assert reason(response) == "OVERLOADED"
    else:
        assert_status_json(response, 503, UNAVAILABLE)
    return reason(response)


async def test_a_catalog_that_is_down_makes_loans_answer_503_at_once(
    mesh, edge: httpx.Client, librarian, new_reader
) -> None:
    patron = new_reader().name
    _, (barcode,) = new_book(edge, librarian)
    catalog = mesh.process("catalog")
    catalog.stop()
    try:
        seconds, response = await _issue(mesh, librarian, patron, barcode)
    finally:
        catalog.start()
        await asyncio.to_thread(mesh.wait_ready, "catalog")
        await asyncio.to_thread(wait_until, lambda: _loans_reaches_the_catalog(mesh), timeout=90,
                                what="loans reaching the catalog again")  # fmt: skip
    assert_status_json(response, 503, UNAVAILABLE)
    assert seconds < 2.0
    _, again = await _issue(mesh, librarian, patron, barcode)
    assert again.status_code == 200, again.text
