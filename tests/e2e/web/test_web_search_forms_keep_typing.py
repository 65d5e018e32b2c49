"""A search form keeps what was typed before the page's first effects ran. The catalogue, patrons, fines and
audit forms followed the route in an effect that also ran once after the first paint and wiped the box: a quick
hand (CI under load) pressed Enter on an empty search. The page clock is held so that the effects run only when
the test says, after the typing."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from browser_helpers import register, sign_in
from playwright.async_api import Page, expect

pytestmark = pytest.mark.e2e


async def _hold_the_clock(page: Page) -> None:
    await page.clock.install()
    await page.clock.pause_at(datetime.now(UTC) + timedelta(seconds=5))


async def test_the_patron_search_keeps_a_card_number_typed_before_the_first_effects(
    page: Page, rest: httpx.AsyncClient, librarian, unique_email
) -> None:
    patron = await register(rest, unique_email(), "Avdotya Panaeva")
    await sign_in(page, librarian.email, librarian.password)
    await _hold_the_clock(page)
    await page.evaluate("location.hash = '#/patrons'")
    await page.get_by_label("Name, email, phone or card number").fill(patron["card_number"])
    await page.clock.run_for(1000)  # the effects of the first render run now, after the typing
    await page.keyboard.press("Enter")
    await page.clock.resume()
    await expect(page.get_by_role("link", name="Avdotya Panaeva")).to_be_visible()


async def test_the_fines_search_keeps_a_patron_typed_before_the_first_effects(
    page: Page, rest: httpx.AsyncClient, librarian, unique_email
) -> None:
    email = unique_email()
    await register(rest, email, "Nikolai Nekrasov")
    await sign_in(page, librarian.email, librarian.password)
    await _hold_the_clock(page)
    await page.evaluate("location.hash = '#/fines'")
    await page.locator("#fines-patron").fill(email)
    await page.clock.run_for(1000)
    await page.keyboard.press("Enter")
    await page.clock.resume()
    await expect(page.get_by_role("link", name="Nikolai Nekrasov")).to_be_visible()


async def test_the_catalogue_search_keeps_words_typed_before_the_first_effects(page: Page, library) -> None:
    await page.goto(f"/#/books/{library['The Master and Margarita'].id}")
    await expect(page.get_by_role("heading", name="The Master and Margarita")).to_be_visible()
    await _hold_the_clock(page)
    await page.evaluate("location.hash = '#/'")
    await page.get_by_label("Search the catalogue").fill("bulgakof")
    await page.clock.run_for(1000)
    await page.keyboard.press("Enter")
    await page.clock.resume()
    await expect(page).to_have_url(re.compile(r"#/\?q=bulgakof$"))
    await expect(page.get_by_label("Search the catalogue")).to_have_value("bulgakof")
    found = page.get_by_test_id("results").locator(f'a[href="#/books/{library["The Master and Margarita"].id}"]')
    await expect(found).to_be_visible()
