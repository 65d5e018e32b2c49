"""The circulation rules follow the catalog's item types, through the real edge and the mesh's JetStream: after
an admin renames a type, its rule governs its copies under the new code (they no longer fall to the */* default
row), and a type deleted takes its rules with it (none is left naming nothing)."""

from __future__ import annotations

import time
import uuid
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from circulation import lend, new_book

pytestmark = pytest.mark.e2e


def _type(edge: httpx.Client, admin: Any, code: str) -> dict[str, Any]:
    created = edge.post("/v1/itemTypes", json={"code": code, "description": code}, headers=admin.headers)
    assert created.status_code == 200, created.text
    return dict(created.json())


def _rule(edge: httpx.Client, admin: Any, item_type: str) -> dict[str, Any]:
    rule = {
        "patron_category": "*",
        "item_type": item_type,
        "loan_period_days": 3,
        "max_loans": 5,
        "hold_pickup_days": 2,
    }
    created = edge.post("/v1/circulationRules", json=rule, headers=admin.headers)
    assert created.status_code == 200, created.text
    return dict(created.json())


def _read_until(edge: httpx.Client, admin: Any, rule: str, done: Any) -> httpx.Response:
    deadline = time.monotonic() + 20
    while not done(read := edge.get(f"/v1/{rule}", headers=admin.headers)):
        assert time.monotonic() < deadline, read.text
        time.sleep(0.2)
    return read


def test_a_renamed_types_rule_follows_it_and_a_deleted_types_rule_goes(
    edge: httpx.Client, admin, librarian, new_reader
) -> None:
    tag = uuid.uuid4().hex[:8].upper()
    old, new, gone = f"OLD{tag}", f"NEW{tag}", f"GONE{tag}"
    kind = _type(edge, admin, old)
    rule = _rule(edge, admin, old)
    book, _ = new_book(edge, librarian, copies=0)
    barcode = f"IT-{tag}"
    copy = edge.post(f"/v1/{book}/copies", json={"barcode": barcode, "item_type": old}, headers=librarian.headers)
    assert copy.status_code == 200, copy.text

    renamed = edge.post(
        f"/v1/{kind['name']}:rename", json={"new_code": new, "etag": kind["etag"]}, headers=admin.headers
    )
    assert renamed.status_code == 200, renamed.text
    followed = _read_until(edge, admin, rule["name"], lambda r: r.json().get("item_type") == new).json()
    assert followed["loan_period_days"] == 3 and followed["etag"] != rule["etag"]

    loan = lend(edge, librarian, new_reader().name, barcode=barcode)
    due = datetime.fromisoformat(loan["due_time"].replace("Z", "+00:00"))
    assert due - datetime.fromisoformat(loan["issue_time"].replace("Z", "+00:00")) < timedelta(days=5)  # not 14

    doomed = _type(edge, admin, gone)
    orphan = _rule(edge, admin, gone)
    deleted = edge.delete(f"/v1/{doomed['name']}", headers=admin.headers)
    assert deleted.status_code == 200, deleted.text
    _read_until(edge, admin, orphan["name"], lambda r: r.status_code == 404)
