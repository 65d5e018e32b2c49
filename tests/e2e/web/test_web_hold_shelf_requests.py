"""The hold shelf page asks for its rows in one ListHolds call a page, never once per row (F2 of the scale
findings: a GET per patron, copy and book, ~880 for 300 holds, and the edge's read rate limit refused many, so
barcodes showed "—")."""

from __future__ import annotations

import uuid

import httpx
import pytest
from browser_helpers import receive_hold_copy, register, sign_in
from playwright.async_api import Page, Request, expect

pytestmark = pytest.mark.e2e

HOLDS = 12


async def _ready_hold(rest: httpx.AsyncClient, staff, patron: dict, tag: str, n: int) -> tuple[str, str, str]:
    made = await rest.post("/v1/books", json={"title": f"Shelf {tag} {n}"}, headers=staff.headers)
    assert made.status_code == 200, made.text
    barcode = f"38{uuid.uuid4().int % 10**10:010d}"
    added = await rest.post(
        f"/v1/{made.json()['name']}/copies", json={"barcode": barcode, "branch": "main"}, headers=staff.headers
    )
    assert added.status_code == 200, added.text
    held = await rest.post(
        "/v1/holds",
        json={"patron": patron["name"], "book": made.json()["name"]},
        headers={"authorization": f"Bearer {patron['access_token']}"},
    )
    assert held.status_code == 200, held.text
    await receive_hold_copy(rest, staff, held.json()["name"])
    return held.json()["name"], made.json()["name"], barcode


async def test_the_hold_shelf_shows_every_barcode_without_a_request_per_row(
    page: Page, rest: httpx.AsyncClient, librarian, unique_email
) -> None:
    tag = uuid.uuid4().hex[:6]
    patrons = [await register(rest, unique_email(), f"Shelf Reader {tag} {n}") for n in range(HOLDS)]
    rows = [await _ready_hold(rest, librarian, patron, tag, n) for n, patron in enumerate(patrons)]
    per_row = {patron["name"] for patron in patrons} | {book for _, book, _ in rows}
    asked: list[str] = []

    def seen(request: Request) -> None:
        path = request.url.split("/v1/", 1)[-1].split("?")[0]
        asked.append(path)

    page.on("request", seen)
    await sign_in(page, librarian.email, librarian.password, next_hash="/holdshelf")
    await page.locator("#holdshelf-branch").select_option(value="")  # all branches: every hold of this test
    shelf = page.get_by_test_id("holdshelf")
    for hold, _, barcode in rows:
        row = shelf.locator(f'tr[data-hold="{hold}"]')
        await expect(row).to_contain_text(barcode)
        await expect(row).to_contain_text(f"Shelf {tag}")
    row_requests = [path for path in asked if any(path.startswith(name) for name in per_row) or "/copies/" in path]
    assert row_requests == []
    assert 1 <= sum(path == "holds" for path in asked) <= 4  # a call a page (and one per branch chosen)
