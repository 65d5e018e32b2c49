"""The patron at the desk is shown with their own standing, whatever answers late. The count of loans asked for
after an issue answered on a slow line after the next patron's card had been looked up, and was drawn over
theirs: the next patron seemed to have the last one's loans. The answer is held here until the next patron is
shown, then let go."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from browser_helpers import register, scan, sign_in
from playwright.async_api import Page, Route, expect

pytestmark = pytest.mark.e2e


async def test_a_standing_that_answers_late_is_not_drawn_over_the_next_patrons(
    page: Page, rest: httpx.AsyncClient, one_copy_book, librarian, unique_email
) -> None:
    first = await register(rest, unique_email(), "Teffi Lokhvitskaya")
    second = await register(rest, unique_email(), "Sasha Chorny")
    await sign_in(page, librarian.email, librarian.password)
    await scan(page, "desk-card", first["card_number"])
    patron = page.get_by_test_id("desk-patron")
    await expect(patron).to_contain_text("0 on loan")

    let_go = asyncio.Event()

    async def held(route: Route) -> None:
        await let_go.wait()
        await route.continue_()

    await page.route(f"**/v1/{first['name']}/loans?*", held)
    await scan(page, "desk-barcode", one_copy_book.barcodes[0])
    await expect(page.get_by_test_id("desk-log").locator("li.ok").first).to_contain_text("Issued")
    await page.get_by_role("button", name="Next patron").click()
    await scan(page, "desk-card", second["card_number"])
    await expect(patron).to_contain_text("Sasha Chorny")
    await expect(patron).to_contain_text("0 on loan")

    async with page.expect_response(lambda response: f"/v1/{first['name']}/loans" in response.url):
        let_go.set()
    await page.wait_for_timeout(500)  # the late answer has been drawn by now, if it is drawn at all
    await expect(patron).to_contain_text("Sasha Chorny")
    await expect(patron).to_contain_text("0 on loan")
