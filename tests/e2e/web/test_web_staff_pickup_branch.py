"""Staff choose where a patron picks up a hold they place for them (finding D8): the book page's "Place a hold for
a patron" and the patron page's hold sent no pickup branch, so a hold placed at the desk always went to the
patron's home branch. Both now offer the library's branches (ListLibraryBranches), the home branch by default."""

from __future__ import annotations

import httpx
import pytest
from browser_helpers import register, sign_in
from playwright.async_api import Page, expect

pytestmark = pytest.mark.e2e
LISTED = ["MAIN", "EAST", "WEST", "NORTH", "SHELFHERE", "SHELFTHERE", "PULLMAIN", "PULLEAST"]  # E2E_LIBRARY_BRANCHES


async def _pickup_branches(rest: httpx.AsyncClient, librarian, patron: dict) -> list[str]:
    holds = (await rest.get(f"/v1/{patron['name']}/holds", headers=librarian.headers)).json().get("holds", [])
    return [hold.get("pickup_branch", "") for hold in holds]


async def _option_values(page: Page, label: str) -> list[str]:
    options = page.get_by_label(label, exact=True).locator("option")
    await expect(options).to_have_count(1 + len(LISTED))
    values: list[str] = await options.evaluate_all("(options) => options.map((option) => option.value)")
    return values


async def test_a_librarian_chooses_the_pickup_branch_of_a_hold_placed_by_card_on_the_book_page(
    page: Page, rest: httpx.AsyncClient, librarian, one_copy_book, unique_email
) -> None:
    patron = await register(rest, unique_email(), "Marina Tsvetaeva")
    await sign_in(page, librarian.email, librarian.password, next_hash=f"/books/{one_copy_book.id}")
    assert await _option_values(page, "Patron picks up at") == ["", *LISTED]  # the library's, not the copy's only
    await expect(page.get_by_label("Patron picks up at")).to_have_value("")  # by default: the patron's home branch
    await page.get_by_label("Patron's card number or email").fill(patron["card_number"])
    await page.get_by_label("Patron picks up at").select_option("NORTH")
    await page.get_by_role("button", name="Place the hold for the patron").click()
    await expect(page.get_by_text("Hold placed for Marina Tsvetaeva")).to_be_visible()
    assert await _pickup_branches(rest, librarian, patron) == ["NORTH"]


async def test_a_librarian_chooses_the_pickup_branch_of_a_hold_placed_on_the_patron_page(
    page: Page, rest: httpx.AsyncClient, librarian, one_copy_book, unique_email
) -> None:
    patron = await register(rest, unique_email(), "Osip Mandelstam")
    user = (await rest.get(f"/v1/{patron['name']}", headers=librarian.headers)).json()
    moved = await rest.patch(
        f"/v1/{patron['name']}",
        json={"home_branch": "EAST", "etag": user["etag"]},
        params={"update_mask": "home_branch"},
        headers=librarian.headers,
    )
    assert moved.status_code == 200, moved.text
    await sign_in(page, librarian.email, librarian.password, next_hash=f"/patrons/{patron['name'].split('/')[-1]}")
    pickup = page.get_by_label("Patron picks up at")
    assert await _option_values(page, "Patron picks up at") == ["", *LISTED]
    await expect(pickup.locator("option").first).to_have_text("Their home branch (EAST)")
    await pickup.select_option("WEST")
    await page.get_by_label("Title, author or ISBN").fill(one_copy_book.title)
    await page.get_by_label("Title, author or ISBN").press("Enter")
    await page.get_by_role("button", name=f"Place a hold on {one_copy_book.title} for Osip Mandelstam").first.click()
    await expect(page.get_by_text(f"Hold placed on “{one_copy_book.title}”")).to_be_visible()
    assert await _pickup_branches(rest, librarian, patron) == ["WEST"]


async def test_the_patron_page_in_russian_names_the_pickup_choice(
    page: Page, rest: httpx.AsyncClient, librarian, unique_email
) -> None:
    patron = await register(rest, unique_email(), "Anna Akhmatova")
    await sign_in(page, librarian.email, librarian.password, next_hash=f"/patrons/{patron['name'].split('/')[-1]}")
    await page.evaluate("localStorage.setItem('athenaeum.lang', 'ru')")
    await page.reload()
    pickup = page.locator("#patron-hold-pickup")
    await expect(page.locator("label[for=patron-hold-pickup]")).to_have_text("Где читатель заберёт книгу")
    await expect(pickup.locator("option").first).to_have_text("Там, где экземпляр освободится раньше")  # no home branch
