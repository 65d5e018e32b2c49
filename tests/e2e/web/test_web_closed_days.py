"""The library's calendar in a real browser: an admin closes a day under the rules matrix, sees it listed with
its reason, and opens it again."""

from __future__ import annotations

import random
from datetime import date, timedelta

import httpx
import pytest
from browser_helpers import sign_in
from playwright.async_api import Page, expect

pytestmark = pytest.mark.e2e


async def test_an_admin_closes_a_day_and_opens_it_again(page: Page, rest: httpx.AsyncClient, admin) -> None:
    day = date.today() + timedelta(days=random.randint(2000, 3000))  # far from any loan another test makes
    reason = f"Founders' day {random.randint(1000, 9999)}"
    await sign_in(page, admin.email, admin.password, next_hash="/rules")
    try:
        await page.get_by_label("Date", exact=True).fill(day.isoformat())
        await page.get_by_label("Reason", exact=True).fill(reason)
        await page.get_by_role("button", name="Close this day").click()
        await expect(page.get_by_text("The library is closed on")).to_be_visible()
        item = page.get_by_test_id("closed-days").get_by_role("listitem").filter(has_text=reason)
        await expect(item).to_be_visible()
        listed = await rest.get("/v1/closedDays", params={"start_date": day.isoformat()}, headers=admin.headers)
        assert [d["reason"] for d in listed.json()["closed_days"] if d["date"] == day.isoformat()] == [reason]

        await item.get_by_role("button", name="Open again").click()
        await expect(page.get_by_text("The library is open again on")).to_be_visible()
        await expect(item).to_have_count(0)
    finally:
        await rest.delete(f"/v1/closedDays/{day.isoformat()}", headers=admin.headers)  # 404 when the page did it
