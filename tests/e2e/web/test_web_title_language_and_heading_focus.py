"""A book's title is marked with its own language, for a screen reader's voice (accessibility finding A12), and
opening a book or a patron from a list puts the focus on its heading once it is drawn, not on <main> (A15)."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from browser_helpers import register, sign_in
from playwright.async_api import Page, Route, expect

pytestmark = pytest.mark.e2e


async def slowly(route: Route) -> None:
    await asyncio.sleep(1)  # the heading comes with the data: well after the route changed
    await route.continue_()


async def test_a_russian_title_on_an_english_page_is_marked_russian(page: Page, library) -> None:
    book = library["Мастер и Маргарита"]
    await page.goto(f"/#/books/{book.id}")
    await expect(page.get_by_role("heading", level=1)).to_have_attribute("lang", "ru")
    await expect(page.locator("html")).to_have_attribute("lang", "en")

    await page.goto("/#/?q=булгаков")
    result = page.get_by_test_id("results").locator(f'a[href="#/books/{book.id}"]')
    await expect(result.locator("xpath=ancestor::*[@lang][1]")).to_have_attribute("lang", "ru")


async def test_opening_a_book_from_the_results_puts_the_focus_on_its_title(page: Page, library) -> None:
    book = library["The White Guard"]
    await page.goto("/#/?q=bulgakov")
    link = page.get_by_test_id("results").locator(f'a[href="#/books/{book.id}"]')
    await expect(link).to_be_visible()
    await page.route(f"**/v1/books/{book.id}", slowly)
    await link.focus()
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("heading", level=1)).to_have_text("The White Guard")
    await expect(page.get_by_role("heading", level=1)).to_be_focused()


async def test_opening_a_patron_from_the_list_puts_the_focus_on_their_name(
    page: Page, rest: httpx.AsyncClient, librarian, unique_email
) -> None:
    patron = await register(rest, unique_email(), "Marina Tsvetaeva")
    await sign_in(page, librarian.email, librarian.password, next_hash="/patrons")
    await page.get_by_label("Name, email, phone or card number").fill(patron["email"])
    await page.keyboard.press("Enter")
    link = page.get_by_role("link", name="Marina Tsvetaeva")
    await expect(link).to_be_visible()
    await page.route(f"**/v1/{patron['name']}", slowly)
    await link.focus()
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Marina Tsvetaeva")
    await expect(page.get_by_role("heading", level=1)).to_be_focused()
