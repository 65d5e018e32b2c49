"""The catalogue tells the truth when a search fails, and long words never widen a phone's page."""

from __future__ import annotations

import pytest
from playwright.async_api import Page, expect

pytestmark = pytest.mark.e2e

UNAVAILABLE = {"code": 14, "message": "no healthy upstream", "details": []}


async def test_a_failed_search_shows_the_error_and_no_count_and_can_be_tried_again(page: Page, library) -> None:
    await page.route("**/v1/books:search?*", lambda route: route.fulfill(status=503, json=UNAVAILABLE), times=1)

    await page.goto("/#/?q=tolstoy")

    await expect(page.get_by_role("alert")).to_contain_text("busy or restarting")
    await expect(page.get_by_test_id("result-count")).to_have_text("")
    await expect(page.get_by_text("found")).to_have_count(0)
    await page.get_by_role("button", name="Try again").click()
    await expect(page.get_by_test_id("results").get_by_role("link", name="Anna Karenina").first).to_be_visible()
    await expect(page.get_by_test_id("result-count")).to_contain_text("found")
    await expect(page.get_by_role("alert")).to_have_count(0)


async def test_a_search_the_edge_refuses_says_so_without_a_count(page: Page, library) -> None:
    await page.goto("/#/?q=tolstoy")
    await expect(page.get_by_test_id("result-count")).to_contain_text("found")

    await page.get_by_label("Search the catalogue").fill("a" * 600)
    await page.get_by_role("button", name="Search", exact=True).click()

    await expect(page.get_by_role("alert")).to_be_visible()
    await expect(page.get_by_test_id("result-count")).to_have_text("")
    await expect(page.get_by_test_id("results").locator("li")).to_have_count(0)  # not the older search's books
    await expect(page.get_by_role("button", name="Try again")).to_have_count(0)  # the same query would fail again
