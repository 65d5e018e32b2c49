"""A book page offers "Place a hold" only once it knows the reader's own holds of the book: while they load, a
reader who already holds it was shown the form, which a moment later gave way to their hold's card under the
finger (and a tap in between asked for a second hold)."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from browser_helpers import PHONE, register, sign_in
from playwright.async_api import Route, expect

pytestmark = pytest.mark.e2e


async def test_a_reader_holding_the_book_is_never_offered_the_form_while_their_holds_load(
    new_context, rest: httpx.AsyncClient, one_copy_book, unique_email
) -> None:
    reader = await register(rest, unique_email(), "Teffi")
    headers = {"authorization": f"Bearer {reader['access_token']}"}
    placed = await rest.post("/v1/holds", json={"patron": reader["name"], "book": one_copy_book.name}, headers=headers)
    assert placed.status_code == 200, placed.text

    page = await (await new_context(viewport=PHONE)).new_page()
    answer_now = asyncio.Event()

    async def held_back(route: Route) -> None:
        await answer_now.wait()
        await route.continue_()

    await page.route(f"**/v1/{reader['name']}/holds?*", held_back)
    await sign_in(page, reader["email"], reader["password"], next_hash=f"/books/{one_copy_book.id}")
    await expect(page.get_by_role("heading", name=one_copy_book.title)).to_be_visible()
    await expect(page.locator("main .card .loading")).to_have_count(1)  # the hold panel says it is loading
    await expect(page.get_by_role("button", name="Place a hold")).to_have_count(0)

    answer_now.set()
    await expect(page.get_by_test_id("my-hold")).to_be_visible()
    await expect(page.get_by_role("button", name="Place a hold")).to_have_count(0)
