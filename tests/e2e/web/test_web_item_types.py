"""The list of item types in a real browser: an admin adds one under the rules matrix, marks it for reference
only, and deletes it; each change shows what was done and the list follows."""

from __future__ import annotations

import random

import httpx
import pytest
from browser_helpers import sign_in
from playwright.async_api import Page, expect

pytestmark = pytest.mark.e2e


async def test_an_admin_adds_marks_and_deletes_an_item_type(page: Page, rest: httpx.AsyncClient, admin) -> None:
    code = f"WEB{random.randint(10000, 99999)}"
    await sign_in(page, admin.email, admin.password, next_hash="/rules")
    try:
        await page.get_by_label("Code", exact=True).fill(code.lower())
        await page.get_by_label("Description", exact=True).fill("Board games")
        await page.get_by_role("button", name="Add item type").click()
        await expect(page.get_by_text(f"Item type {code} added.")).to_be_visible()
        item = page.get_by_test_id("item-types").get_by_role("listitem").filter(has_text=code)
        await expect(item).to_contain_text("Board games")

        await item.get_by_role("button", name=f"Edit item type {code}").click()
        await page.get_by_label("For reference only (not for loan)").check()
        await page.get_by_role("button", name="Save item type").click()
        await expect(page.get_by_text(f"Item type {code} saved.")).to_be_visible()
        await expect(item).to_contain_text("for reference only")
        stored = await rest.get(f"/v1/itemTypes/{code}", headers=admin.headers)
        assert (stored.json()["description"], stored.json()["not_for_loan"]) == ("Board games", True)

        await item.get_by_role("button", name=f"Delete item type {code}").click()
        await expect(page.get_by_text(f"Item type {code} deleted.")).to_be_visible()
        await expect(item).to_have_count(0)
        assert (await rest.get(f"/v1/itemTypes/{code}", headers=admin.headers)).status_code == 404
    finally:
        await rest.delete(f"/v1/itemTypes/{code}", headers=admin.headers)  # 404 when the page did it
