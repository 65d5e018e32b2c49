"""What a query string may not do at the real edge: name another resource than the URL does, set a field the
JSON body leaves out, or give a singular parameter twice (the transcoder let the query string win, or the last
value). The parameters the API reference lists still pass, and a repeated field still takes several values."""

from __future__ import annotations

import uuid

import httpx
import pytest
from circulation import reason

pytestmark = pytest.mark.e2e

MALFORMED = "MALFORMED_REQUEST"


def _refused(response: httpx.Response) -> None:
    assert response.status_code == 400 and reason(response) == MALFORMED, response.text
    assert response.json()["code"] == 3, response.text  # INVALID_ARGUMENT


def _item_type(edge: httpx.Client, admin, label: str) -> str:
    code = f"{label}{uuid.uuid4().hex[:8].upper()}"
    created = edge.post("/v1/itemTypes", json={"code": code, "description": label.lower()}, headers=admin.headers)
    assert created.status_code == 200, created.text
    return code


def test_the_url_names_the_item_type_a_query_parameter_cannot_name_another(edge: httpx.Client, admin) -> None:
    victim, spare = _item_type(edge, admin, "VICTIM"), _item_type(edge, admin, "SPARE")

    _refused(edge.delete(f"/v1/itemTypes/{spare}", params={"name": f"itemTypes/{victim}"}, headers=admin.headers))
    _refused(edge.get(f"/v1/itemTypes/{spare}", params={"name": f"itemTypes/{victim}"}))
    patch = {"update_mask": "description", "item_type.name": f"itemTypes/{victim}"}
    _refused(edge.patch(f"/v1/itemTypes/{spare}", params=patch, json={"description": "x"}, headers=admin.headers))
    assert edge.get(f"/v1/itemTypes/{victim}").json()["description"] == "victim"

    # A body field smuggled in the query string: refused, nothing created or changed.
    code = f"QRY{uuid.uuid4().hex[:8].upper()}"
    smuggled = edge.post(
        "/v1/itemTypes", params={"item_type.not_for_loan": "true"}, json={"code": code, "description": "q"},
        headers=admin.headers,
    )  # fmt: skip
    _refused(smuggled)
    assert edge.get(f"/v1/itemTypes/{code}").status_code == 404
    mask = {"update_mask": "description,not_for_loan", "itemType.notForLoan": "true"}
    _refused(edge.patch(f"/v1/itemTypes/{spare}", params=mask, json={"description": "x"}, headers=admin.headers))
    assert edge.get(f"/v1/itemTypes/{spare}").json().get("not_for_loan", False) is False

    # The URL's own resource, with the parameters the reference lists, is acted on as before.
    deleted = edge.delete(f"/v1/itemTypes/{spare}", params={"request_id": str(uuid.uuid4())}, headers=admin.headers)
    assert deleted.status_code == 200, deleted.text
    assert edge.get(f"/v1/itemTypes/{spare}").status_code == 404
    assert edge.get(f"/v1/itemTypes/{victim}").status_code == 200


def test_a_reader_s_holds_url_cannot_list_another_reader_s(edge: httpx.Client, admin, new_reader) -> None:
    first, second = new_reader(), new_reader()
    _refused(edge.get(f"/v1/{first.name}/holds", params={"parent": second.name}, headers=admin.headers))
    _refused(edge.get(f"/v1/{first.name}/holds/", params={"parent": second.name}, headers=admin.headers))
    own = edge.get(f"/v1/{first.name}/holds", params={"page_size": 5}, headers=admin.headers)
    assert own.status_code == 200, own.text
    # On the collection's own path `parent` is a list parameter, as the reference says.
    by_parent = edge.get("/v1/holds", params={"parent": second.name, "page_size": 5}, headers=admin.headers)
    assert by_parent.status_code == 200, by_parent.text


def test_a_singular_parameter_given_twice_is_refused_a_repeated_one_is_not(edge: httpx.Client, admin) -> None:
    twice = [("filter", "to_pull = true"), ("filter", 'pickup_branch = "EAST"'), ("page_size", "100")]
    _refused(edge.get("/v1/holds", params=twice, headers=admin.headers))
    _refused(edge.get("/v1/itemTypes", params=[("page_size", "1"), ("page_size", "2")]))
    _refused(edge.get("/v1/itemTypes", params=[("page_size", "1"), ("pageSize", "2")]))
    once = edge.get("/v1/holds", params=twice[1:], headers=admin.headers)
    assert once.status_code == 200, once.text
    facets = edge.get("/v1/books:search", params=[("query", "a"), ("facets", "language"), ("facets", "subjects")])
    assert facets.status_code == 200, facets.text
