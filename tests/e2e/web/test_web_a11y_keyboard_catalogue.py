"""Accessibility findings of the web client (findings-a11y, tester s8/t4), by keyboard only: every language of the
catalogue's filter can be chosen and moving through them searches nothing (A4); "More results", "Sign in" and
"Close this day" keep the keyboard focus while busy instead of dropping it to <body> (A5)."""

from __future__ import annotations

import random
import re
import uuid
from datetime import date, timedelta

import httpx
import pytest
from browser_helpers import sign_in
from playwright.async_api import Page, expect

pytestmark = pytest.mark.e2e

# 12 English, 6 German, 3 French, 1 Russian: the facet lists them in that order (most first), so German and
# French are the languages "between the first and the last" that arrow keys could never reach.
LANGUAGES = ["en"] * 12 + ["de"] * 6 + ["fr"] * 3 + ["ru"]


async def _books(rest: httpx.AsyncClient, staff, word: str) -> None:
    for index, language in enumerate(LANGUAGES):
        book = {"title": f"{word} volume {index}", "authors": ["Ada Facet"], "language": language}
        made = await rest.post("/v1/books", json=book, headers=staff.headers)
        assert made.status_code == 200, made.text


async def _tab_until_focused(page: Page, locator, most: int = 40) -> None:
    for _ in range(most):
        if await locator.evaluate("element => element === document.activeElement"):
            return
        await page.keyboard.press("Tab")
    raise AssertionError("never reached by Tab")


async def test_any_language_of_the_filter_can_be_chosen_by_keyboard_and_more_results_keeps_the_focus(
    page: Page, rest: httpx.AsyncClient, librarian
) -> None:
    word = f"Zq{uuid.uuid4().hex[:8]}"
    await _books(rest, librarian, word)
    await page.goto(f"/#/?q={word}")
    await expect(page.get_by_test_id("result-count")).to_contain_text("22")
    languages = page.get_by_role("group", name="Language", exact=True)
    await expect(languages.get_by_role("link")).to_have_count(5)

    await _tab_until_focused(page, languages.get_by_role("link", name="Any language"))
    for _ in range(3):  # English, German, French: moving through them is no search
        await page.keyboard.press("Tab")
    french = languages.get_by_role("link", name=re.compile(r"^French"))
    await expect(french).to_be_focused()
    assert "language=" not in page.url
    await page.keyboard.press("Enter")
    await expect(page).to_have_url(re.compile(r"language=fr"))
    await expect(page.get_by_test_id("result-count")).to_contain_text("3")
    # Still every language, counted over the search in all of them; the one chosen says so, and keeps the focus.
    await expect(languages.get_by_role("link")).to_have_count(5)
    await expect(languages.get_by_role("link", name=re.compile(r"^German \(6\)"))).to_be_visible()
    await expect(french).to_have_attribute("aria-current", "true")
    await expect(french).to_be_focused()

    # "More results" by keyboard: the focus goes to the first result of the next page, not to <body>.
    await _tab_until_focused(page, languages.get_by_role("link", name="Any language"))
    await page.keyboard.press("Enter")
    await expect(page.get_by_test_id("results").get_by_role("listitem")).to_have_count(20)
    more = page.get_by_role("button", name="More results")
    await more.focus()
    await page.keyboard.press("Enter")
    await expect(page.get_by_test_id("results").get_by_role("listitem")).to_have_count(22)
    first_new = page.get_by_test_id("results").get_by_role("listitem").nth(20).get_by_role("link")
    await expect(first_new).to_be_focused()


async def test_a_refused_sign_in_keeps_the_focus_on_the_button(page: Page, librarian) -> None:
    await page.goto("/#/signin")
    await page.get_by_label("Email").fill(librarian.email)
    await page.get_by_label("Password").fill("not-the-password")
    button = page.get_by_role("button", name="Sign in", exact=True)
    await button.focus()
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("alert")).to_be_visible()
    await expect(button).to_be_focused()


async def test_closing_a_day_by_keyboard_keeps_the_focus_on_the_button(
    page: Page, rest: httpx.AsyncClient, admin
) -> None:
    day = date.today() + timedelta(days=random.randint(400, 1999))  # within the ten years allowed, past any loan
    await sign_in(page, admin.email, admin.password, next_hash="/rules")
    try:
        await page.get_by_label("Date", exact=True).fill(day.isoformat())
        button = page.get_by_role("button", name="Close this day")
        await button.focus()
        await page.keyboard.press("Enter")
        await expect(page.get_by_text("The library is closed on")).to_be_visible()
        await expect(button).to_be_focused()
    finally:
        await rest.delete(f"/v1/closedDays/{day.isoformat()}", headers=admin.headers)
