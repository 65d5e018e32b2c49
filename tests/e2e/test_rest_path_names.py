"""Over REST the URL names the resource (AIP-134): a `name` in the body that names another one is refused with
400, never acted on (PATCH /v1/books/A with {"name": "books/C"} changed C); the same name in both is fine."""

from __future__ import annotations

import httpx
import pytest

pytestmark = pytest.mark.e2e

INVALID_ARGUMENT = 3
NO_SUCH_LOAN = "loans/00000000-0000-0000-0000-000000000009"


@pytest.fixture(scope="module")
def desk(mesh, librarian) -> httpx.Client:
    with httpx.Client(base_url=mesh.edge_url, timeout=10, headers=librarian.headers) as client:
        yield client


def _book(desk: httpx.Client, title: str) -> dict:
    response = desk.post("/v1/books", json={"title": title, "authors": ["Nikolai Gogol"], "language": "ru"})
    assert response.status_code == 200, response.text
    return response.json()


def test_a_patch_whose_body_names_another_book_is_refused_and_changes_neither(desk: httpx.Client) -> None:
    a, c = _book(desk, "Book A, in the path"), _book(desk, "Book C, in the body")
    response = desk.patch(f"/v1/{a['name']}", params={"update_mask": "title"}, json={"title": "X", "name": c["name"]})
    assert response.status_code == 400, response.text
    assert response.json()["code"] == INVALID_ARGUMENT
    assert desk.get(f"/v1/{a['name']}").json()["title"] == "Book A, in the path"
    assert desk.get(f"/v1/{c['name']}").json()["title"] == "Book C, in the body"


def test_a_patch_whose_body_repeats_the_path_name_is_taken(desk: httpx.Client) -> None:
    a = _book(desk, "Dead Souls, draft")
    read = desk.get(f"/v1/{a['name']}").json()  # copy and edit: the body as read, name included
    response = desk.patch(f"/v1/{a['name']}", params={"update_mask": "title"}, json={**read, "title": "Dead Souls"})
    assert response.status_code == 200, response.text
    assert response.json()["name"] == a["name"] and response.json()["title"] == "Dead Souls"


def test_a_custom_method_whose_body_names_another_resource_is_refused(desk: httpx.Client) -> None:
    response = desk.post(f"/v1/{NO_SUCH_LOAN}:renew", json={"name": "loans/00000000-0000-0000-0000-00000000000a"})
    assert response.status_code == 400, response.text  # it renewed the body's loan
    assert response.json()["code"] == INVALID_ARGUMENT
