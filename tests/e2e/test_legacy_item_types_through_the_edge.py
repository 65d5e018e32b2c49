"""Item types seeded by catalog migration 0010 from old copies, whose codes break today's rule ("LARGE PRINT",
"DVD/CD", "КНИГА"), through the real edge: they answered 400 on Get, Update and Delete; an admin now reads,
changes, deletes and renames them by the name ListItemTypes gives (percent-encoded), and the copies follow."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

import httpx
import pytest
import sqlalchemy as sa
from circulation import new_book, reason
from sqlalchemy.ext.asyncio import create_async_engine

from services.catalog.data.tables import item_types

pytestmark = pytest.mark.e2e


async def _seed_as_the_upgrade_did(mesh, codes: list[str]) -> None:
    """What migration 0010 left of old copies' free-text types: each code described by itself, lendable."""
    engine = create_async_engine(mesh.database_url("catalog"))
    now = datetime.now(UTC)
    rows = [dict(code=c, description=c, not_for_loan=False, created_at=now, updated_at=now, version=1) for c in codes]
    try:
        async with engine.begin() as connection:
            await connection.execute(sa.insert(item_types), rows)
    finally:
        await engine.dispose()


def _listed(edge: httpx.Client) -> dict[str, dict]:
    found: dict[str, dict] = {}
    token = ""
    while True:
        page = edge.get("/v1/itemTypes", params={"page_size": 100, "page_token": token})
        assert page.status_code == 200, page.text
        found |= {kind["code"]: kind for kind in page.json()["item_types"]}
        if not (token := page.json().get("next_page_token", "")):
            return found


def test_an_admin_reads_changes_deletes_and_renames_types_whose_codes_predate_the_rule(
    mesh, edge: httpx.Client, admin, librarian
) -> None:
    tag = uuid.uuid4().hex[:6].upper()
    large, disc, russian = f"LARGE PRINT {tag}", f"DVD/CD {tag}", f"\u041a\u041d\u0418\u0413\u0410 {tag}"
    asyncio.run(_seed_as_the_upgrade_did(mesh, [large, disc, russian]))
    book, _ = new_book(edge, librarian, copies=0)
    barcode = f"LP-{tag}"
    copy = edge.post(
        f"/v1/{book}/copies", json={"barcode": barcode, "item_type": large.lower()}, headers=librarian.headers
    )
    assert copy.status_code == 200 and copy.json()["item_type"] == large, copy.text  # copies keep working

    listed = _listed(edge)
    assert {k: listed[k]["name"] for k in (large, disc)} == {
        large: f"itemTypes/LARGE%20PRINT%20{tag}",
        disc: f"itemTypes/DVD%2FCD%20{tag}",
    }
    for code in (large, disc, russian):  # the listed name, as a URL
        read = edge.get(f"/v1/{listed[code]['name']}")
        assert read.status_code == 200 and read.json()["code"] == code, read.text
    assert edge.get(f"/v1/itemTypes/{russian}").json()["code"] == russian  # typed in the URL, as httpx encodes it

    patched = edge.patch(
        f"/v1/{listed[russian]['name']}",
        params={"update_mask": "not_for_loan,description"},
        json={"not_for_loan": True, "description": "Books in Russian"},
        headers=admin.headers,
    )
    assert patched.status_code == 200 and patched.json()["not_for_loan"], patched.text

    # Loans asks the catalog about a rule's item type: one from before the rule is a rule's too, when listed.
    for code in (disc, russian):
        rule = {"patron_category": "*", "item_type": code, "loan_period_days": 3, "hold_pickup_days": 2}
        created = edge.post("/v1/circulationRules", json=rule, headers=admin.headers)
        assert created.status_code == 200 and created.json()["item_type"] == code, created.text
        assert edge.delete(f"/v1/{created.json()['name']}", headers=admin.headers).status_code == 200

    deleted = edge.delete(f"/v1/{listed[disc]['name']}", headers=admin.headers)
    assert deleted.status_code == 200, deleted.text
    assert edge.get(f"/v1/{listed[disc]['name']}").status_code == 404

    rename = f"/v1/{listed[large]['name']}:rename"
    refused = edge.post(rename, json={"new_code": "LARGE PRINT"}, headers=admin.headers)
    assert refused.status_code == 400, refused.text  # a new code keeps to the rule
    assert edge.post(rename, json={"new_code": "LP"}, headers=librarian.headers).status_code == 403
    taken = edge.post(rename, json={"new_code": "BOOK"}, headers=admin.headers)
    assert taken.status_code == 409 and reason(taken) == "ITEM_TYPE_EXISTS", taken.text
    renamed = edge.post(rename, json={"new_code": f"large_print_{tag}"}, headers=admin.headers)
    assert renamed.status_code == 200, renamed.text
    assert renamed.json()["name"] == f"itemTypes/LARGE_PRINT_{tag}"
    moved = edge.get(f"/v1/{copy.json()['name']}", headers=librarian.headers)
    assert moved.status_code == 200 and moved.json()["item_type"] == f"LARGE_PRINT_{tag}", moved.text
    assert edge.get(f"/v1/{listed[large]['name']}").status_code == 404
