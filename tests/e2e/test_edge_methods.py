"""What the edge answers for a method a REST path does not take, and for HEAD: RFC 9110's answers, not 404.

A known path asked with another method was "Could not resolve /v1/books to a method" (404, as if nothing were
there), and HEAD on a GET route the same. Now the first is 405 with `Allow` and the edge's Status JSON, and HEAD
is the GET without its body, over HTTP/1.1 and HTTP/2.
"""

from __future__ import annotations

import shutil
import subprocess
import uuid

import httpx
import pytest
from test_rest_errors import assert_status_json

pytestmark = pytest.mark.e2e
UNIMPLEMENTED, NOT_FOUND = 12, 5
SOME_ID = str(uuid.uuid4())


@pytest.fixture(scope="module")
def book_path(edge: httpx.Client, librarian) -> str:
    book = {"title": "Fathers and Sons", "authors": ["Ivan Turgenev"], "language": "ru"}
    created = edge.post("/v1/books", json=book, headers=librarian.headers)
    assert created.status_code == 200, created.text
    return "/v1/" + created.json()["name"]


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("PUT", "/v1/books", "GET, HEAD, POST"),
        ("DELETE", f"/v1/loans/{SOME_ID}:return", "POST"),
        ("GET", "/v1/auth/login", "POST"),
        ("PATCH", f"/v1/books/{SOME_ID}/copies", "GET, HEAD, POST"),
        ("POST", f"/v1/users/{SOME_ID}", "GET, HEAD, PATCH, DELETE"),
        ("HEAD", "/v1/auth/refresh", "POST"),
    ],
)
def test_another_method_on_a_known_path_is_405_with_allow(
    edge: httpx.Client, librarian, method: str, path: str, allow: str
) -> None:
    response = edge.request(method, path, json={} if method != "HEAD" else None, headers=librarian.headers)
    assert response.status_code == 405, response.text
    assert response.headers["allow"] == allow
    if method != "HEAD":
        body = assert_status_json(response, 405, UNIMPLEMENTED)
        assert allow in body["message"]


def test_an_unknown_path_is_still_404_whatever_the_method(edge: httpx.Client) -> None:
    for method in ("GET", "PUT", "DELETE"):
        assert_status_json(edge.request(method, "/v2/nothing-here"), 404, NOT_FOUND)


def test_head_on_a_get_route_is_the_get_without_its_body(edge: httpx.Client, librarian, book_path: str) -> None:
    for path, params in ((book_path, {}), ("/v1/books:search", {"query": "turgenev"}), ("/v1/books", {"page_size": 1})):
        got = edge.get(path, params=params, headers=librarian.headers)
        head = edge.head(path, params=params, headers=librarian.headers)
        assert (head.status_code, got.status_code) == (200, 200), (path, head.text)
        assert head.content == b""
        assert head.headers["content-type"] == got.headers["content-type"]
        assert int(head.headers["content-length"]) == len(got.content), path


def test_head_answers_with_the_status_the_get_would_have(edge: httpx.Client, librarian) -> None:
    missing = edge.head(f"/v1/books/{SOME_ID}", headers=librarian.headers)
    assert missing.status_code == 404 and missing.content == b""
    assert edge.head("/v1/users/me").status_code == 401  # no token: as the GET
    assert edge.head("/v1/books", params={"colour": "red"}).status_code == 400


def test_a_cross_origin_head_carries_the_cors_headers(mesh, edge: httpx.Client, book_path: str) -> None:
    (origin,) = mesh.topology.cors_origins
    head = edge.head(book_path, headers={"origin": origin})
    assert head.status_code == 200 and head.headers["access-control-allow-origin"] == origin


@pytest.mark.parametrize(
    ("method", "path", "allow"), [("PUT", "/v1/books", "GET, HEAD, POST"), ("GET", "/v1/loans/x:return", "POST")]
)
def test_a_cross_origin_405_carries_the_cors_headers(
    mesh, edge: httpx.Client, method: str, path: str, allow: str
) -> None:
    """A direct response skipped the CORS filter: a browser saw a CORS failure, not the 405 and its Allow."""
    (origin,) = mesh.topology.cors_origins
    allowed = edge.request(method, path, headers={"origin": origin})
    assert_status_json(allowed, 405, UNIMPLEMENTED)
    assert allowed.headers["allow"] == allow
    assert allowed.headers["access-control-allow-origin"] == origin
    by_the_filter = edge.get("/v2/nothing-here", headers={"origin": origin})  # a 404 the CORS filter saw
    assert allowed.headers["access-control-expose-headers"] == by_the_filter.headers["access-control-expose-headers"]
    other = edge.request(method, path, headers={"origin": "https://evil.example"})
    assert other.status_code == 405 and "access-control-allow-origin" not in other.headers


@pytest.mark.skipif(shutil.which("curl") is None, reason="needs curl (HTTP/2 without TLS)")
def test_head_over_http2_ends_the_stream_cleanly(mesh, librarian, book_path: str) -> None:
    """HTTP/2 does not drop a HEAD answer's body by itself: the transcoder's JSON went out, and curl reported
    the stream as broken (PROTOCOL_ERROR)."""
    command = ["curl", "-sS", "--http2-prior-knowledge", "--head", "--max-time", "10"]
    command += ["-H", f"authorization: Bearer {librarian.access_token}", mesh.edge_url + book_path]
    result = subprocess.run(command, capture_output=True, text=True, timeout=20, check=False)
    assert result.returncode == 0, result.stderr
    status, *headers = result.stdout.splitlines()
    assert status.strip() == "HTTP/2 200"
    assert any(line.lower().startswith("content-length: ") for line in headers)
