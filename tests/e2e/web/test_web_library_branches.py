"""The web offers the library's own branches (ListLibraryBranches) when it lists them: a reader placing a hold
chooses a pickup branch among them (it was offered only the branches the book's copies are at, and nothing at
all for a book at one branch), and the desk lists' branch choices are the library's, in its list's order (they
were read from up to ten pages of holds, and missed a branch no hold named yet)."""

from __future__ import annotations

import uuid

import httpx
import pytest
from browser_helpers import register, sign_in
from playwright.async_api import Page, expect

pytestmark = pytest.mark.e2e
LISTED = ["MAIN", "EAST", "WEST", "NORTH", "SHELFHERE", "SHELFTHERE", "PULLMAIN", "PULLEAST"]  # E2E_LIBRARY_BRANCHES


async def test_a_reader_chooses_a_pickup_branch_among_the_library_s_for_a_book_at_one_branch(
    page: Page, rest: httpx.AsyncClient, librarian, unique_email
) -> None:
    made = await rest.post("/v1/books", json={"title": f"One Branch {uuid.uuid4().hex[:6]}"}, headers=librarian.headers)
    assert made.status_code == 200, made.text
    book = made.json()["name"]
    copy = {"barcode": f"41{uuid.uuid4().int % 10**10:010d}", "branch": "MAIN"}
    assert (await rest.post(f"/v1/{book}/copies", json=copy, headers=librarian.headers)).status_code == 200
    reader = await register(rest, unique_email(), "Lidia Zinovieva")
    await sign_in(page, reader["email"], reader["password"], next_hash=f"/books/{book.split('/')[-1]}")

    pickup = page.get_by_label("Pick up at")
    await expect(pickup.locator("option")).to_have_count(1 + len(LISTED))
    values = await pickup.locator("option").evaluate_all("(options) => options.map((option) => option.value)")
    assert values == ["", *LISTED]  # the library's, in its order: not only MAIN, where the copy is
    await pickup.select_option("EAST")
    await page.get_by_role("button", name="Place a hold").click()
    await expect(page.get_by_test_id("my-hold")).to_contain_text("EAST")
    auth = {"authorization": f"Bearer {reader['access_token']}"}
    holds = (await rest.get(f"/v1/{reader['name']}/holds", headers=auth)).json()["holds"]
    assert [hold["pickup_branch"] for hold in holds] == ["EAST"]


async def test_the_desk_lists_offer_the_library_s_branches_in_its_order(page: Page, librarian) -> None:
    await sign_in(page, librarian.email, librarian.password, next_hash="/holdshelf")
    for path in ("/holdshelf", "/pulllist"):
        await page.goto(f"/#{path}")
        options = page.get_by_label("Branch", exact=True).locator("option")
        await expect(options).to_have_count(1 + len(LISTED))  # "All branches", then the library's
        values = await options.evaluate_all("(options) => options.map((option) => option.value)")
        assert values == ["", *LISTED], path
