"""AIP-155 through the edge for the two requests the runtime's request ledger does not see: a batch of
events (journaled, not written to a database) and an import (a stream). The same request_id with another
request is INVALID_ARGUMENT there too, never an "accepted" whose data is dropped."""

from __future__ import annotations

import uuid

import grpc
import httpx
import pytest

from athenaeum.catalog.v1 import catalog_pb2, catalog_pb2_grpc

pytestmark = pytest.mark.e2e


def test_a_batch_of_events_under_a_used_request_id_with_other_events_is_a_400(edge: httpx.Client, reader) -> None:
    request_id, kind = str(uuid.uuid4()), f"test.rid{uuid.uuid4().hex[:8]}"

    def batch(n: str) -> httpx.Response:
        event = {"type": kind, "occur_time": "2026-12-01T10:00:00Z", "attributes": {"n": n}}
        return edge.post(
            "/v1/events:batchRecord", json={"request_id": request_id, "events": [event]}, headers=reader.headers
        )

    assert batch("1").status_code == 200
    retried = batch("1")
    assert retried.status_code == 200 and retried.json()["accepted_count"] == 1
    refused = batch("2")
    assert refused.status_code == 400, refused.text
    assert "request_id" in refused.json()["message"]


async def test_an_import_under_a_used_request_id_with_other_rows_is_invalid_argument(mesh, librarian) -> None:
    request_id, word = str(uuid.uuid4()), uuid.uuid4().hex[:10]

    async def stream(title: str):
        yield catalog_pb2.ImportBooksRequest(header="title", rows=[f"{title} {word}"], request_id=request_id)

    async with grpc.aio.insecure_channel(mesh.edge_grpc_target) as channel:
        stub = catalog_pb2_grpc.CatalogServiceStub(channel)
        first = await stub.ImportBooks(stream("First"), metadata=librarian.metadata, timeout=30)
        again = await stub.ImportBooks(stream("First"), metadata=librarian.metadata, timeout=30)
        assert (first.created_count, again.created_count) == (1, 1)
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await stub.ImportBooks(stream("Second"), metadata=librarian.metadata, timeout=30)
        assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "request_id" in (refused.value.details() or "")
        found = await stub.SearchBooks(catalog_pb2.SearchBooksRequest(query=word))
        assert [r.book.title for r in found.results] == [f"First {word}"]
