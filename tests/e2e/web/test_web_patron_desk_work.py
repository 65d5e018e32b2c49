"""The everyday desk work on a patron's and a book's page (finding F6): renew for the patron, a hold placed on their
behalf, a copy added to a title already catalogued, a walk-in reader registered, the account's category,
expiry, phone and home branch changed; block and unblock with a reason (F7)."""

from __future__ import annotations

import uuid

import httpx
import pytest
from browser_helpers import register, sign_in
from playwright.async_api import Page, expect

pytestmark = pytest.mark.e2e


async def _issue(rest: httpx.AsyncClient, librarian, patron: dict, barcode: str) -> dict:
    body = {"patron": patron["name"], "barcode": barcode}
    issued = await rest.post("/v1/loans:issue", json=body, headers=librarian.headers)
    assert issued.status_code == 200, issued.text
    return issued.json()


def _patron_hash(patron: dict) -> str:
    return f"/patrons/{patron['name'].split('/')[-1]}"


async def test_a_librarian_renews_a_patrons_loan_from_the_patron_page(
    page: Page, rest: httpx.AsyncClient, librarian, one_copy_book, unique_email
) -> None:
    patron = await register(rest, unique_email(), "Ivan Bunin")
    loan = await _issue(rest, librarian, patron, one_copy_book.barcodes[0])
    await sign_in(page, librarian.email, librarian.password, next_hash=_patron_hash(patron))
    loans = page.get_by_test_id("patron-loans")
    await expect(loans).to_contain_text("0 / ")
    await loans.get_by_role("button", name=f"Renew {one_copy_book.title}").click()
    await expect(page.get_by_test_id("renew-result")).to_contain_text(f"“{one_copy_book.title}” is now due by")
    renewed = (await rest.get(f"/v1/{loan['name']}", headers=librarian.headers)).json()
    assert renewed["renewal_count"] == 1 and renewed["due_time"] > loan["due_time"]


async def test_a_librarian_places_a_hold_for_the_patron_from_the_patron_page(
    page: Page, rest: httpx.AsyncClient, librarian, one_copy_book, unique_email
) -> None:
    patron = await register(rest, unique_email(), "Leonid Andreyev")
    await sign_in(page, librarian.email, librarian.password, next_hash=_patron_hash(patron))
    await page.get_by_label("Title, author or ISBN").fill(one_copy_book.title)
    await page.get_by_label("Title, author or ISBN").press("Enter")
    await page.get_by_role("button", name=f"Place a hold on {one_copy_book.title} for Leonid Andreyev").first.click()
    await expect(page.get_by_text(f"Hold placed on “{one_copy_book.title}”")).to_be_visible()
    holds = (await rest.get(f"/v1/{patron['name']}/holds", headers=librarian.headers)).json()["holds"]
    assert len(holds) == 1 and holds[0]["patron"] == patron["name"]


async def test_a_librarian_places_a_hold_for_a_patron_by_card_from_the_book_page(
    page: Page, rest: httpx.AsyncClient, librarian, one_copy_book, unique_email
) -> None:
    patron = await register(rest, unique_email(), "Zinaida Gippius")
    await sign_in(page, librarian.email, librarian.password, next_hash=f"/books/{one_copy_book.id}")
    await page.get_by_label("Patron's card number or email").fill(patron["card_number"])
    await page.get_by_role("button", name="Place the hold for the patron").click()
    await expect(page.get_by_text(f"Hold placed for Zinaida Gippius ({patron['card_number']})")).to_be_visible()
    holds = (await rest.get(f"/v1/{patron['name']}/holds", headers=librarian.headers)).json()["holds"]
    assert [hold["book"] for hold in holds] == [one_copy_book.name]
    mine = (await rest.get(f"/v1/{librarian.name}/holds", headers=librarian.headers)).json().get("holds", [])
    assert one_copy_book.name not in [hold["book"] for hold in mine], "the hold is the patron's, not the librarian's"


async def test_a_librarian_adds_a_copy_to_a_title_already_in_the_catalogue(
    page: Page, rest: httpx.AsyncClient, librarian, one_copy_book
) -> None:
    barcode = f"37{uuid.uuid4().int % 10**10:010d}"
    await sign_in(page, librarian.email, librarian.password, next_hash=f"/books/{one_copy_book.id}")
    await page.get_by_label("Barcode").fill(barcode)
    await page.get_by_label("Branch").fill("east")
    await page.get_by_role("button", name="Add the copy").click()
    await expect(page.get_by_text(f"Copy {barcode} added at east.")).to_be_visible()
    await expect(page.get_by_test_id("staff-copies")).to_contain_text(barcode)
    copies = (await rest.get(f"/v1/{one_copy_book.name}/copies")).json()["copies"]
    assert sorted(copy["barcode"] for copy in copies) == sorted([*one_copy_book.barcodes, barcode])


async def test_a_librarian_registers_a_walk_in_reader_with_a_category(
    page: Page, rest: httpx.AsyncClient, librarian, unique_email
) -> None:
    email = unique_email()
    await sign_in(page, librarian.email, librarian.password, next_hash="/patrons")
    await page.get_by_role("link", name="New reader").click()
    await page.get_by_label("Email").fill(email)
    await page.get_by_label("Name").fill("Aleksey Remizov")
    await page.get_by_label("Category").fill("CHILD")
    await page.get_by_role("button", name="Register the reader").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Aleksey Remizov")
    await expect(page.get_by_text("The reader is registered")).to_be_visible()
    found = (await rest.get("/v1/users", params={"query": email}, headers=librarian.headers)).json()["users"]
    assert [(user["role"], user["patron_category"]) for user in found] == [("USER_ROLE_READER", "CHILD")]


async def test_a_librarian_changes_category_expiry_phone_and_home_branch(
    page: Page, rest: httpx.AsyncClient, librarian, unique_email
) -> None:
    patron = await register(rest, unique_email(), "Boris Zaitsev")
    await sign_in(page, librarian.email, librarian.password, next_hash=_patron_hash(patron))
    await page.get_by_label("Category").fill("STUDENT")
    await page.get_by_label("Membership ends").fill("2031-06-30")
    await page.locator("#patron-phone").fill("+79991234567")
    await page.get_by_label("Home branch").fill("east")
    await page.get_by_role("button", name="Save").click()
    await expect(page.get_by_text("Saved.")).to_be_visible()
    user = (await rest.get(f"/v1/{patron['name']}", headers=librarian.headers)).json()
    # The library's branch (E2E_LIBRARY_BRANCHES), typed in lower case: kept in the list's spelling.
    assert (user["patron_category"], user["phone"], user["home_branch"]) == ("STUDENT", "+79991234567", "EAST")
    assert user["expire_time"].startswith(("2031-06-30", "2031-07-01")), user["expire_time"]  # end of that day


async def test_a_librarian_blocks_a_reader_with_a_reason_and_unblocks_them(
    page: Page, rest: httpx.AsyncClient, librarian, unique_email
) -> None:
    patron = await register(rest, unique_email(), "Nadezhda Teffi")
    await sign_in(page, librarian.email, librarian.password, next_hash=_patron_hash(patron))
    await page.get_by_label("Reason (the patron is told it)").fill("Damaged book")
    await page.get_by_role("button", name="Block", exact=True).click()
    await expect(page.get_by_test_id("patron-status")).to_have_text("blocked Damaged book")
    user = (await rest.get(f"/v1/{patron['name']}", headers=librarian.headers)).json()
    assert (user["status"], user["status_reason"]) == ("USER_STATUS_BLOCKED", "Damaged book")

    await page.get_by_role("button", name="Unblock").click()
    await expect(page.get_by_test_id("patron-status")).to_have_text("active")
    user = (await rest.get(f"/v1/{patron['name']}", headers=librarian.headers)).json()
    assert user["status"] == "USER_STATUS_ACTIVE"
