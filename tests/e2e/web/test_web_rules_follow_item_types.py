"""The rules table on the Rules page follows an item type renamed or deleted below it (finding NF5: it showed
the old code, and the etag a Save then sent was refused as changed meanwhile, until the page was reloaded)."""

from __future__ import annotations

import random

import httpx
import pytest
from browser_helpers import sign_in
from playwright.async_api import Page, expect

pytestmark = pytest.mark.e2e
RULE = {"patron_category": "*", "loan_period_days": 3, "max_loans": 2, "max_renewals": 1, "renewal_period_days": 3,
        "fine_per_day": "1.00", "holds_allowed": True, "max_holds": 1, "hold_pickup_days": 3}  # fmt: skip


async def test_the_rules_table_follows_an_item_type_renamed_then_deleted(
    page: Page, rest: httpx.AsyncClient, admin
) -> None:
    number = random.randint(10000, 99999)
    code, new = f"FOLLOW{number}", f"MOVED{number}"
    created = await rest.post("/v1/itemTypes", json={"code": code, "description": "Maps"}, headers=admin.headers)
    assert created.status_code == 200, created.text
    rule = await rest.post("/v1/circulationRules", json=RULE | {"item_type": code}, headers=admin.headers)
    assert rule.status_code == 200, rule.text
    await sign_in(page, admin.email, admin.password, next_hash="/rules")
    rules = page.get_by_test_id("rules")
    try:
        await expect(rules.locator("td.code", has_text=code)).to_have_count(1)
        page.on("dialog", lambda dialog: dialog.accept())

        item = page.get_by_test_id("item-types").get_by_role("listitem").filter(has_text=code)
        await item.get_by_role("button", name=f"Rename item type {code}").click()
        await page.get_by_label("New code", exact=True).fill(new)
        await page.get_by_role("button", name="Rename item type", exact=True).click()
        await expect(page.get_by_text(f"Item type {code} renamed {new}.")).to_be_visible()
        await expect(rules.locator("td.code", has_text=new)).to_have_count(1)
        await expect(rules.locator("td.code", has_text=code)).to_have_count(0)

        # The row has the re-keyed rule's etag: a Save is taken, not refused as changed meanwhile.
        await page.get_by_label(f"Loan days (* / {new})").fill("4")
        await rules.get_by_role("row").filter(has_text=new).get_by_role("button", name="Save").click()
        await expect(page.get_by_text(f"Rule * / {new} saved.")).to_be_visible()

        moved = page.get_by_test_id("item-types").get_by_role("listitem").filter(has_text=new)
        await moved.get_by_role("button", name=f"Delete item type {new}").click()
        await expect(page.get_by_text(f"Item type {new} deleted.")).to_be_visible()
        await expect(rules.locator("td.code", has_text=new)).to_have_count(0)
    finally:
        for made in (code, new):
            await rest.delete(f"/v1/itemTypes/{made}", headers=admin.headers)
        await rest.delete(f"/v1/{rule.json()['name']}", headers=admin.headers)  # 404 once the deletion took it
