"""The whole catalog API through the real edge (REST/JSON and gRPC) and the mesh (circulation as loans)."""

from __future__ import annotations

import random
import string
import uuid
from urllib.parse import quote, urlencode

import grpc
import httpx
import pytest

from athenaeum.catalog.v1 import catalog_pb2, catalog_pb2_grpc

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def rest(mesh, librarian) -> httpx.Client:
    """REST as a librarian (cataloguing is staff work; reads are public, see `anonymous`)."""
    with httpx.Client(base_url=mesh.edge_url, timeout=10, headers=librarian.headers) as client:
        yield client


@pytest.fixture(scope="module")
def anonymous(mesh) -> httpx.Client:
    with httpx.Client(base_url=mesh.edge_url, timeout=10) as client:
        yield client


def _word() -> str:
    """A made-up word no other test's book contains (the mesh's database is shared by the session)."""
    return "".join(random.choices(string.ascii_lowercase, k=10)).capitalize()


def _url(path: str, **params: object) -> str:
    """Spaces as %20: the edge's transcoder does not read "+" in a query string as a space."""
    return f"{path}?{urlencode(params, doseq=True, quote_via=quote)}"


def _violations(response: httpx.Response) -> list[str]:
    return [
        violation["field"]
        for detail in response.json().get("details", [])
        if detail["@type"].endswith("google.rpc.BadRequest")
        for violation in detail["field_violations"]
    ]


def _create(rest: httpx.Client, **book: object) -> dict[str, object]:
    response = rest.post("/v1/books", json={"title": "Untitled", **book})
    assert response.status_code == 200, response.text
    return response.json()


def _copy(rest: httpx.Client, book: dict[str, object], barcode: str | None = None) -> dict[str, object]:
    response = rest.post(f"/v1/{book['name']}/copies", json={"barcode": barcode or uuid.uuid4().hex, "branch": "MAIN"})
    assert response.status_code == 200, response.text
    return response.json()


def test_a_book_is_updated_through_a_field_mask_with_its_etag(rest: httpx.Client) -> None:
    book = _create(rest, title="Fathers and Sons", authors=["Ivan Turgenev"], publication_year=1862)
    patched = rest.patch(
        f"/v1/{book['name']}",
        params={"update_mask": "title,publicationYear"},
        json={"title": "Fathers and Children", "publication_year": 1863, "authors": ["ignored"], "etag": book["etag"]},
    )
    assert patched.status_code == 200, patched.text
    body = patched.json()
    assert (body["title"], body["publication_year"], body["authors"]) == (
        "Fathers and Children",
        1863,
        ["Ivan Turgenev"],
    )
    assert body["etag"] != book["etag"]
    stale = rest.patch(
        f"/v1/{book['name']}", params={"update_mask": "title"}, json={"title": "X", "etag": book["etag"]}
    )
    assert stale.status_code == 409
    assert stale.json()["code"] == grpc.StatusCode.ABORTED.value[0]
    assert rest.get(f"/v1/{book['name']}").json()["title"] == "Fathers and Children"


@pytest.mark.parametrize(
    ("book", "field"),
    [
        ({"title": "T", "isbn": "978-0-00-000000-1"}, "book.isbn"),
        ({"title": "   "}, "book.title"),
        ({"title": "T", "publication_year": -5}, "book.publication_year"),
    ],
)
def test_bad_book_fields_are_400_with_a_field_violation(
    rest: httpx.Client, book: dict[str, object], field: str
) -> None:
    response = rest.post("/v1/books", json=book)
    assert response.status_code == 400
    assert _violations(response) == [field]


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("/v1/books", {"filter": "colour = red"}, "filter"),
        ("/v1/books", {"page_size": -1}, "page_size"),
        ("/v1/books", {"update_mask": "x"}, None),
        ("/v1/books:search", {"query": "x", "facets": "colour"}, "facets[0]"),
        ("/v1/books:search", {}, "query"),
    ],
)
def test_bad_list_and_search_requests_are_400(rest: httpx.Client, path: str, params: dict, field: str | None) -> None:
    response = rest.get(_url(path, **params))
    assert response.status_code == 400
    if field:
        assert _violations(response) == [field]


def test_a_page_token_from_another_query_is_400(rest: httpx.Client) -> None:
    for _ in range(2):
        _create(rest, title=f"Token {_word()}", language="en")
    first = rest.get(_url("/v1/books", page_size=1, filter='language = "en"')).json()
    response = rest.get("/v1/books", params={"page_size": 1, "page_token": first["next_page_token"]})
    assert response.status_code == 400
    assert _violations(response) == ["page_token"]


def test_a_duplicate_barcode_is_409_already_exists(rest: httpx.Client) -> None:
    book = _create(rest, title="Oblomov")
    barcode = uuid.uuid4().hex
    _copy(rest, book, barcode)
    response = rest.post(f"/v1/{book['name']}/copies", json={"barcode": barcode})
    assert response.status_code == 409
    assert response.json()["code"] == grpc.StatusCode.ALREADY_EXISTS.value[0]


def test_search_over_rest_tolerates_typos_and_counts_facets(rest: httpx.Client, anonymous: httpx.Client) -> None:
    word, author = _word(), f"Author {_word()}"
    for language in ("en", "en", "ru"):
        _create(rest, title=f"The {word} Chronicles", authors=[author], subjects=["Fantasy"], language=language)
    typo = word[:4] + word[5:]
    found = anonymous.get("/v1/books:search", params={"query": typo}).json()
    assert f"The {word} Chronicles" in [r["book"]["title"] for r in found["results"]]
    faceted = anonymous.get(
        _url("/v1/books:search", **{"filters.authors": author, "facets": ["language", "subjects"]})
    ).json()
    assert faceted["total_size"] == 3
    facets = {f["field"]: [(v["value"], v["count"]) for v in f["values"]] for f in faceted["facets"]}
    assert facets == {"language": [("en", 2), ("ru", 1)], "subjects": [("Fantasy", 3)]}


def test_circulation_runs_over_the_mesh_and_guards_deletes(rest: httpx.Client, mesh) -> None:
    book = _create(rest, title=f"Circulating {_word()}")
    copy = _copy(rest, book)
    loan = f"loans/{uuid.uuid4()}"
    assert rest.get(f"/v1/{book['name']}").json()["available_copies"] == 1  # now in GetBook's cache
    with grpc.insecure_channel(mesh.outbound_target("loans")) as channel:  # calling as the loans service
        stub = catalog_pb2_grpc.CatalogServiceStub(channel)
        out = stub.CheckOutCopy(catalog_pb2.CheckOutCopyRequest(book=book["name"], loan=loan), timeout=10)
        again = stub.CheckOutCopy(catalog_pb2.CheckOutCopyRequest(book=book["name"], loan=loan), timeout=10)
        assert out.name == again.name == copy["name"] and out.status == catalog_pb2.COPY_STATUS_ON_LOAN
        assert rest.get(f"/v1/{book['name']}").json()["available_copies"] == 0
        refused = rest.delete(f"/v1/{book['name']}")
        assert refused.status_code == 400
        assert refused.json()["code"] == grpc.StatusCode.FAILED_PRECONDITION.value[0]
        stub.CheckInCopy(catalog_pb2.CheckInCopyRequest(name=copy["name"], loan=loan), timeout=10)
    assert rest.get(f"/v1/{book['name']}").json()["available_copies"] == 1
    assert rest.delete(f"/v1/{book['name']}").status_code == 200
    assert rest.get(f"/v1/{book['name']}").status_code == 404


def test_search_answers_follow_circulation_and_cataloguing(rest: httpx.Client, anonymous: httpx.Client, mesh) -> None:
    word = _word()
    book = _create(rest, title=f"The {word} Orchard")
    copy = _copy(rest, book)

    def search(**filters: object) -> list[tuple[str, int]]:
        found = anonymous.get(_url("/v1/books:search", query=word, **filters))
        assert found.status_code == 200, found.text
        return [(r["book"]["title"], r["book"].get("available_copies", 0)) for r in found.json()["results"]]

    assert search() == search() == [(f"The {word} Orchard", 1)]  # the second from the cache of answers
    assert search(**{"filters.available_only": "true"}) == [(f"The {word} Orchard", 1)]
    loan = f"loans/{uuid.uuid4()}"
    with grpc.insecure_channel(mesh.outbound_target("loans")) as channel:  # calling as the loans service
        stub = catalog_pb2_grpc.CatalogServiceStub(channel)
        stub.CheckOutCopy(catalog_pb2.CheckOutCopyRequest(book=book["name"], loan=loan), timeout=10)
        assert search() == [(f"The {word} Orchard", 0)]
        assert search(**{"filters.available_only": "true"}) == []
        stub.CheckInCopy(catalog_pb2.CheckInCopyRequest(name=copy["name"], loan=loan), timeout=10)
    assert search(**{"filters.available_only": "true"}) == [(f"The {word} Orchard", 1)]
    _create(rest, title=f"{word} Revisited")
    assert sorted(title for title, _ in search()) == sorted([f"The {word} Orchard", f"{word} Revisited"])


def test_a_copy_is_found_by_its_barcode(rest: httpx.Client) -> None:
    copy = _copy(rest, _create(rest, title="Rudin"))
    found = rest.get("/v1/copies:lookup", params={"barcode": copy["barcode"]})
    assert found.status_code == 200 and found.json()["name"] == copy["name"]
    assert rest.get("/v1/copies:lookup", params={"barcode": "nope-" + uuid.uuid4().hex}).status_code == 404


async def test_a_csv_import_streams_through_the_edge_all_or_nothing(mesh, librarian) -> None:
    word = _word()
    header = "title,authors,language,copies"
    good = [f'"{word} One",Someone,en,2', f'"{word} Two",Someone,ru,MAIN:1;EAST:1']
    async with grpc.aio.insecure_channel(mesh.edge_grpc_target) as channel:
        stub = catalog_pb2_grpc.CatalogServiceStub(channel)

        async def stream(rows: list[str]):
            yield catalog_pb2.ImportBooksRequest(header=header, rows=rows[:1])
            yield catalog_pb2.ImportBooksRequest(rows=rows[1:])

        refused = await stub.ImportBooks(stream([*good, '"",Nobody,en,1']), metadata=librarian.metadata)
        assert (refused.created_count, refused.failed_count) == (0, 1)
        assert refused.errors[0].row == 3 and "book.title" in refused.errors[0].message
        accepted = await stub.ImportBooks(stream(good), metadata=librarian.metadata)
        assert (accepted.created_count, accepted.failed_count) == (2, 0)
        found = await stub.SearchBooks(catalog_pb2.SearchBooksRequest(query=word))
        assert sorted(r.book.total_copies for r in found.results) == [2, 2]
