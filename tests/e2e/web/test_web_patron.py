"""A patron in a real browser: search the catalogue (typos forgiven, matches highlighted, facets), open a
book, sign in, place a hold; then the account page."""

from __future__ import annotations

import re

import httpx
import pytest
from browser_helpers import register, screenshot, sign_in
from playwright.async_api import Page, expect

pytestmark = pytest.mark.e2e


async def test_a_patron_searches_opens_a_book_signs_in_and_places_a_hold(
    page: Page, rest: httpx.AsyncClient, library, unique_email, screenshot_dir
) -> None:
    patron = await register(rest, unique_email(), "Anna Akhmatova")
    await page.goto("/")
    await expect(page.get_by_role("heading", name="Find a book")).to_be_visible()

    # A typo still finds the author's books; the facets count what was found.
    await page.get_by_label("Search the catalogue").fill("bulgakof")
    await page.get_by_role("button", name="Search", exact=True).click()
    results = page.get_by_test_id("results")
    # Other tests may add books of the same title to the shared library: find ours by its link.
    ours = results.locator(f'a[href="#/books/{library["The Master and Margarita"].id}"]')
    await expect(ours).to_have_text("The Master and Margarita")
    await expect(page.get_by_test_id("result-count")).to_contain_text(re.compile(r"\d+ books? found"))
    await expect(page.get_by_role("group", name="Language", exact=True)).to_contain_text("English")

    # A word from the description comes back highlighted.
    await page.get_by_label("Search the catalogue").fill("moscow")
    await page.get_by_role("button", name="Search", exact=True).click()
    await expect(results.get_by_role("link", name="Heart of a Dog")).to_be_visible()
    await expect(results.locator("mark").first).to_have_text(re.compile("moscow", re.IGNORECASE))
    await screenshot(page, screenshot_dir, "catalogue")

    await ours.click()
    await expect(page.get_by_role("heading", level=1)).to_contain_text("The Master and Margarita")
    copies = page.get_by_role("table", name="Copies by branch")
    await expect(copies.get_by_role("rowheader", name="main")).to_be_visible()
    await expect(copies.get_by_role("rowheader", name="east")).to_be_visible()

    # Signing in from the book page comes back to it.
    await page.get_by_role("main").get_by_role("link", name="Sign in").click()  # the hold panel's, not the banner's
    await page.get_by_label("Email").fill(patron["email"])
    await page.get_by_label("Password").fill(patron["password"])
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("heading", level=1)).to_contain_text("The Master and Margarita")

    await page.get_by_role("button", name="Place a hold").click()
    hold = page.get_by_test_id("my-hold")
    await expect(hold).to_contain_text(re.compile("A copy is being fetched for you|You are in the queue"))

    await page.get_by_role("link", name="My account").click()
    await expect(page.get_by_test_id("card-number")).to_have_text(patron["card_number"])
    await expect(page.get_by_test_id("holds")).to_contain_text("The Master and Margarita")


async def test_a_hold_on_a_book_that_is_out_waits_in_the_queue(
    page: Page, rest: httpx.AsyncClient, one_copy_book, librarian, unique_email
) -> None:
    borrower = await register(rest, unique_email(), "Marina Tsvetaeva")
    issued = await rest.post(
        "/v1/loans:issue",
        json={"patron": borrower["name"], "barcode": one_copy_book.barcodes[0]},
        headers=librarian.headers,
    )
    assert issued.status_code == 200, issued.text
    patron = await register(rest, unique_email(), "Boris Pasternak")

    await sign_in(page, patron["email"], patron["password"], next_hash=f"/books/{one_copy_book.id}")
    await expect(page.get_by_text("None available now (0 of 1)")).to_be_visible()  # on loan, or on the shelf for a hold
    await page.get_by_role("button", name="Place a hold").click()
    await expect(page.get_by_test_id("my-hold")).to_contain_text("Your place in the queue: 1.")

    # Placing it again is refused in plain words (the page shows the hold instead of the button now).
    again = await rest.post(
        "/v1/holds",
        json={"patron": patron["name"], "book": one_copy_book.name},
        headers={"authorization": f"Bearer {patron['access_token']}"},
    )
    assert again.status_code == 409 and "HOLD_EXISTS" in again.text


async def test_a_hold_whose_book_left_the_catalogue_says_so(
    page: Page, rest: httpx.AsyncClient, librarian, unique_email
) -> None:
    """Its heading read "Loading…" for ever (the title's look-up failed and was dropped)."""
    book = await rest.post("/v1/books", json={"title": "To Be Withdrawn"}, headers=librarian.headers)
    assert book.status_code == 200, book.text
    patron = await register(rest, unique_email(), "Anna Akhmatova")
    held = await rest.post(
        "/v1/holds",
        json={"patron": patron["name"], "book": book.json()["name"]},
        headers={"authorization": f"Bearer {patron['access_token']}"},
    )
    assert held.status_code == 200, held.text
    assert (await rest.delete(f"/v1/{book.json()['name']}", headers=librarian.headers)).status_code == 200

    await sign_in(page, patron["email"], patron["password"], next_hash="/account")
    await expect(page.get_by_test_id("holds").get_by_role("heading")).to_have_text("A book no longer in the catalogue")


async def test_after_a_hold_takes_the_copy_the_book_page_counts_it(
    page: Page, rest: httpx.AsyncClient, one_copy_book, unique_email
) -> None:
    """The page went on saying "1 of 1 available" beside "Ready for pickup" for the copy it had just taken (set
    aside on the open shelf now: on its way to the hold shelf)."""
    patron = await register(rest, unique_email(), "Nadezhda Teffi")
    await sign_in(page, patron["email"], patron["password"], next_hash=f"/books/{one_copy_book.id}")
    await expect(page.get_by_text("1 of 1 available")).to_be_visible()

    await page.get_by_role("button", name="Place a hold").click()

    await expect(page.get_by_test_id("my-hold")).to_contain_text("A copy is being fetched for you.")
    await expect(page.get_by_text("None available now (0 of 1)")).to_be_visible()


async def test_back_from_a_hold_on_one_book_shows_the_other_book_without_it(
    page: Page, rest: httpx.AsyncClient, one_copy_book, librarian, unique_email
) -> None:
    """The page kept the hold just placed on another book ("You are in the queue") and hid "Place a hold"."""
    other = await rest.post("/v1/books", json={"title": "The Silver Dove"}, headers=librarian.headers)
    assert other.status_code == 200, other.text
    patron = await register(rest, unique_email(), "Zinaida Gippius")
    await sign_in(page, patron["email"], patron["password"], next_hash=f"/books/{one_copy_book.id}")
    await expect(page.get_by_role("button", name="Place a hold")).to_be_visible()

    await page.goto(f"/#/books/{other.json()['name'].split('/')[-1]}")
    await expect(page.get_by_role("heading", level=1)).to_have_text("The Silver Dove")
    await page.get_by_role("button", name="Place a hold").click()
    await expect(page.get_by_test_id("my-hold")).to_contain_text("You are in the queue")
    await page.go_back()

    await expect(page.get_by_role("heading", level=1)).to_have_text(one_copy_book.title)
    await expect(page.get_by_role("button", name="Place a hold")).to_be_visible()
    await expect(page.get_by_test_id("my-hold")).to_have_count(0)


async def test_the_account_of_a_reader_who_owes_nothing_says_so_and_a_sum_owed_has_its_currency(
    page: Page, rest: httpx.AsyncClient, librarian, unique_email
) -> None:
    """With no fines the total read "Total owed: 0.00", without a currency (it comes with the fines)."""
    patron = await register(rest, unique_email(), "Sofia Parnok")
    await sign_in(page, patron["email"], patron["password"], next_hash="/account")
    await expect(page.get_by_test_id("fines-total")).to_have_text("Nothing is owed.")

    fine = {"patron": patron["name"], "amount": "1.25", "kind": "FINE_KIND_DAMAGED_ITEM"}
    assert (await rest.post("/v1/fines", json=fine, headers=librarian.headers)).status_code == 200
    await page.reload()
    await expect(page.get_by_test_id("fines-total")).to_have_text("Total owed: RUB 1.25")
