"""The desk says each refusal once (accessibility finding A10): the newest one in the app's one assertive line, always
in the page, the log's items plain; coming back to the desk from another page says none of the old ones again."""

from __future__ import annotations

import httpx
import pytest
from browser_helpers import register, scan, sign_in
from playwright.async_api import Page, expect

pytestmark = pytest.mark.e2e


async def test_a_refusal_is_said_once_and_not_again_on_coming_back_to_the_desk(
    page: Page, rest: httpx.AsyncClient, librarian, unique_email
) -> None:
    borrower = await register(rest, unique_email(), "Nadezhda Teffi")
    await sign_in(page, librarian.email, librarian.password, next_hash="/desk")
    said = page.get_by_test_id("announce-alert")  # the app's one assertive line, which the desk says refusals in
    await expect(said).to_have_text("")
    await scan(page, "desk-card", borrower["card_number"])
    await expect(page.get_by_test_id("desk-patron")).to_contain_text("Nadezhda Teffi")
    await scan(page, "desk-barcode", "NOPE123")
    await expect(said).to_contain_text("NOPE123 refused")
    await scan(page, "desk-barcode", "NOPE456")
    await expect(said).to_contain_text("NOPE456 refused")
    await expect(said).not_to_contain_text("NOPE123")
    log = page.get_by_test_id("desk-log")
    await expect(log.locator("li.refused")).to_have_count(2)
    await expect(page.get_by_role("alert")).to_have_count(0)  # the items are plain: no alert per row

    await page.get_by_role("link", name="Patrons").click()
    await expect(page.get_by_role("heading", name="Patrons")).to_be_visible()
    await page.get_by_role("link", name="Desk").click()
    await expect(log.locator("li.refused")).to_have_count(2)
    await expect(said).to_have_text("")  # the old refusals are in the log, not said again
    await expect(page.get_by_role("alert")).to_have_count(0)
