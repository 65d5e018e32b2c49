"""A refusal said in words a Russian-speaking librarian (and their screen reader) understands, tied to the field
it is about (accessibility findings A11, A14), and a lost book's fine said in the page's language (A17)."""

from __future__ import annotations

import uuid

import httpx
import pytest
from browser_helpers import register, sign_in
from playwright.async_api import expect

pytestmark = pytest.mark.e2e


async def russian_patron_page(new_context, rest: httpx.AsyncClient, librarian, unique_email, fine: dict):
    patron = await register(rest, unique_email(), "Vera Inber")
    made = await rest.post("/v1/fines", json={"patron": patron["name"], **fine}, headers=librarian.headers)
    assert made.status_code == 200, made.text
    page = await (await new_context()).new_page()
    await sign_in(page, librarian.email, librarian.password, next_hash=f"/patrons/{patron['name'].split('/')[-1]}")
    await page.get_by_role("button", name="RU").click()
    return page


async def test_a_payment_over_what_is_owed_is_said_in_russian_in_the_alert_and_tied_to_the_amount(
    new_context, rest: httpx.AsyncClient, librarian, unique_email
) -> None:
    fine = {"amount": "25.00", "kind": "FINE_KIND_DAMAGED_ITEM", "description": "Wet pages"}
    page = await russian_patron_page(new_context, rest, librarian, unique_email, fine)
    row = page.get_by_role("row").filter(has_text="Wet pages")
    amount = row.locator("input[inputmode=decimal]")
    await amount.fill("999")
    await page.keyboard.press("Enter")

    alert = row.get_by_role("alert")
    await expect(alert).to_contain_text("столько ещё не оплачено")
    await expect(alert).to_contain_text("25,00")
    await expect(amount).to_have_attribute("aria-invalid", "true")
    await expect(amount).to_have_attribute("aria-describedby", await alert.get_attribute("id") or "no id")
    await expect(amount).to_be_focused()
    await expect(page.get_by_text("must be")).to_have_count(0)


async def test_an_isbn_of_the_wrong_length_is_refused_in_russian(new_context, librarian) -> None:
    page = await (await new_context()).new_page()
    await sign_in(page, librarian.email, librarian.password, next_hash="/books-new")
    await page.get_by_role("button", name="RU").click()
    await page.locator("#book-title").fill(f"Тест {uuid.uuid4().hex[:6]}")
    await page.locator("#book-isbn").fill("123")
    await page.locator("form button[type=submit]").click()

    await expect(page.locator("#book-isbn-error")).to_contain_text("10 или 13 цифр")
    await expect(page.get_by_text("must be")).to_have_count(0)


async def test_a_lost_book_fine_is_said_in_russian(
    new_context, rest: httpx.AsyncClient, librarian, unique_email
) -> None:
    """The loans service's own words for the fine of a book declared lost: "lost: <title> (<barcode>): <reason>"."""
    described = "lost: A Letter in Harbour (AT0042): fell in the river"
    fine = {"amount": "5.00", "kind": "FINE_KIND_LOST_ITEM", "description": described}
    page = await russian_patron_page(new_context, rest, librarian, unique_email, fine)
    said = "Утерянная книга: «A Letter in Harbour» (AT0042) — fell in the river"
    await expect(page.get_by_text(said)).to_be_visible()
    await expect(page.get_by_text("lost:")).to_have_count(0)
