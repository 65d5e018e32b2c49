"""Back from a book to *My account* finds the reader where they were on the page (finding P9: on a phone the
account is a long column, and Back landed at its top: only the catalogue put its scroll back)."""

from __future__ import annotations

import uuid

import httpx
import pytest
from browser_helpers import PHONE, lend, new_book, register, sign_in
from playwright.async_api import Page, Route, expect

pytestmark = pytest.mark.e2e


async def test_back_from_a_held_book_returns_to_the_hold_on_my_account(
    new_context, rest: httpx.AsyncClient, one_copy_book, librarian, unique_email
) -> None:
    patron = await register(rest, unique_email(), "Lidia Chukovskaya")
    for index in range(2):
        _, barcode = await new_book(rest, librarian, f"Lent {index} {uuid.uuid4().hex[:6]}")
        await lend(rest, librarian, patron, barcode)
    held = await rest.post(
        "/v1/holds",
        json={"patron": patron["name"], "book": one_copy_book.name},
        headers={"authorization": f"Bearer {patron['access_token']}"},
    )
    assert held.status_code == 200, held.text
    page = await (await new_context(viewport=PHONE)).new_page()
    await sign_in(page, patron["email"], patron["password"])
    link = page.get_by_test_id("holds").get_by_role("link", name=one_copy_book.title)
    await expect(link).to_be_visible()
    await link.evaluate("element => element.scrollIntoView({ block: 'center' })")
    before = await page.evaluate("scrollY")
    assert before > 400, "the account page should be taller than the phone's screen"
    await link.click()
    await expect(page.get_by_role("heading", level=1)).to_have_text(one_copy_book.title)

    async def slow(route: Route) -> None:  # the account's lists come back after the page is drawn
        await page.wait_for_timeout(300)
        await route.continue_()

    await page.route("**/v1/users/**", slow)
    await page.go_back()

    await expect(link).to_be_visible()
    after = await _scroll_when_still(page)
    assert abs(after - before) <= 2, f"scrolled to {after}, not back to {before}"
    await expect(link).to_be_in_viewport()


async def _scroll_when_still(page: Page) -> float:
    """The page's scroll once it has stayed put for a moment (the account's lists come back one by one)."""
    last = None
    for _ in range(40):
        now = await page.evaluate("scrollY")
        if now == last and await page.get_by_text("Loading…").count() == 0:
            return float(now)
        last = now
        await page.wait_for_timeout(250)
    return float(last or 0)
