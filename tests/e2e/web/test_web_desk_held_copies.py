"""Finding D14: a copy on the hold shelf scanned at the desk's Issue for another reader said "not available to
lend (on loan, reserved, lost or damaged)"; it says whose hold it is on the shelf for, and until when."""

from __future__ import annotations

import httpx
import pytest
from browser_helpers import register, scan, sign_in
from playwright.async_api import Page, expect

pytestmark = pytest.mark.e2e


async def test_a_hold_shelf_copy_issued_to_another_reader_says_whose_it_is(
    page: Page, rest: httpx.AsyncClient, one_copy_book, librarian, unique_email
) -> None:
    holder = await register(rest, unique_email(), "Nadezhda Teffi")
    other = await register(rest, unique_email(), "Isaac Babel")
    barcode = one_copy_book.barcodes[0]
    placed = await rest.post(
        "/v1/holds",
        json={"patron": holder["name"], "book": one_copy_book.name},
        headers={"authorization": f"Bearer {holder['access_token']}"},
    )
    assert placed.status_code == 200, placed.text
    body = {"barcode": barcode, "branch": placed.json()["pickup_branch"]}
    ready = await rest.post("/v1/holds:receive", json=body, headers=librarian.headers)
    assert ready.status_code == 200 and ready.json()["status"] == "HOLD_STATUS_READY", ready.text

    await sign_in(page, librarian.email, librarian.password)
    await scan(page, "desk-card", other["card_number"])
    await expect(page.get_by_test_id("desk-patron")).to_contain_text("Isaac Babel")
    await scan(page, "desk-barcode", barcode)
    refusal = page.get_by_test_id("desk-log").locator("li.refused").first
    await expect(refusal).to_have_attribute("data-reason", "COPY_NOT_AVAILABLE")
    await expect(refusal).to_contain_text(f"on the hold shelf for Nadezhda Teffi ({holder['card_number']})")
    await expect(refusal).to_contain_text(" until ")
