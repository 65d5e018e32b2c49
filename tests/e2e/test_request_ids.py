"""Request ids through the edge: a client's well-formed x-request-id is kept and reaches the service's log,
any other request gets one the edge makes, and every answer (REST or gRPC, success or error) carries it."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import grpc
import httpx
import pytest

from athenaeum.catalog.v1 import catalog_pb2, catalog_pb2_grpc

pytestmark = pytest.mark.e2e


def logged(path: Path, text: str, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and text in path.read_text(encoding="utf-8", errors="replace"):
            return True
        time.sleep(0.2)
    return False


def is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def test_a_client_request_id_is_answered_and_reaches_the_edge_and_service_logs(mesh, edge: httpx.Client) -> None:
    mine = f"my-req-{uuid.uuid4().hex}"
    missing = edge.get(f"/v1/books/{uuid.uuid4()}", headers={"x-request-id": mine})
    assert missing.status_code == 404 and missing.headers.get("x-request-id") == mine
    logs = mesh.data_dir / "logs"
    assert logged(logs / "edge.log", mine), "the edge's access log does not name the client's request id"
    assert logged(logs / "catalog.log", mine), "the catalog's rpc line does not name the client's request id"


def test_a_uuid_from_the_client_comes_back_unchanged(edge: httpx.Client) -> None:
    mine = str(uuid.uuid4())
    answer = edge.get("/v1/books", params={"page_size": 1}, headers={"x-request-id": mine})
    assert answer.status_code == 200 and answer.headers.get("x-request-id") == mine


@pytest.mark.parametrize("sent", [None, "", "has space", "x" * 129, "-leading-dash", 'quote"d', "caf\u00e9".encode()])
def test_a_request_without_a_well_formed_id_gets_a_fresh_one(edge: httpx.Client, sent: str | bytes | None) -> None:
    headers = {} if sent is None else {"x-request-id": sent}
    first = edge.get("/v1/books", params={"page_size": 1}, headers=headers)
    second = edge.get("/v1/books", params={"page_size": 1}, headers=headers)
    ids = [answer.headers.get("x-request-id", "") for answer in (first, second)]
    assert all(is_uuid(value) for value in ids) and ids[0] != ids[1], ids


def test_a_refusal_made_by_the_edge_carries_the_request_id_too(edge: httpx.Client) -> None:
    mine = f"refused-{uuid.uuid4().hex}"
    refused = edge.get("/v1/no-such-thing", headers={"x-request-id": mine})
    assert refused.status_code == 404 and refused.headers.get("x-request-id") == mine


def test_a_grpc_caller_gets_its_request_id_back_in_the_initial_metadata(mesh) -> None:
    mine = f"grpc-{uuid.uuid4().hex}"
    with grpc.insecure_channel(mesh.edge_grpc_target) as channel:
        stub = catalog_pb2_grpc.CatalogServiceStub(channel)
        _, call = stub.ListBooks.with_call(
            catalog_pb2.ListBooksRequest(page_size=1), metadata=[("x-request-id", mine)], timeout=10
        )
    assert dict(call.initial_metadata()).get("x-request-id") == mine
