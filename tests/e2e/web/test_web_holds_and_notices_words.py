"""Small web fixes of the desk and phone tester (findings-desk-web), in a real browser: a reader's "Cancel hold"
asks first, naming the book (D12); a title with reference copies only offers no hold form and, on a phone in
Russian, its copies table fits (D7, D6); staff placing a hold for a patron are told about the patron (D16); on the
item types list a later action clears the last notice (D4) and a conflict reloads the list so the next save
passes (D13)."""

from __future__ import annotations

import asyncio
import random
import uuid

import httpx
import pytest
from browser_helpers import PHONE, register, sign_in
from playwright.async_api import Page, expect

pytestmark = pytest.mark.e2e


async def _book(rest: httpx.AsyncClient, staff, title: str, **copy: str) -> str:
    made = await rest.post("/v1/books", json={"title": title, "authors": ["Leo Tolstoy"]}, headers=staff.headers)
    assert made.status_code == 200, made.text
    body = {"barcode": f"36{uuid.uuid4().int % 10**10:010d}", "branch": "EAST", **copy}
    added = await rest.post(f"/v1/{made.json()['name']}/copies", json=body, headers=staff.headers)
    assert added.status_code == 200, added.text
    name: str = made.json()["name"]
    return name


async def test_cancel_hold_asks_naming_the_book_and_staff_hear_about_the_patron(
    new_context, page: Page, rest: httpx.AsyncClient, librarian, unique_email
) -> None:
    tag = uuid.uuid4().hex[:6]
    title = f"Anna Karenina {tag}"
    book = await _book(rest, librarian, title)
    reader = await register(rest, unique_email(), f"Reader {tag}")

    # D16: the librarian places the hold for the patron, then again: the refusal is about the patron.
    await sign_in(page, librarian.email, librarian.password, next_hash=f"/books/{book.split('/')[-1]}")
    for said in ("Hold placed for", "The patron already has a hold on this book."):
        await page.get_by_label("Patron's card number or email").fill(reader["card_number"])
        await page.get_by_role("button", name="Place the hold for the patron").click()
        await expect(page.get_by_text(said)).to_be_visible()
    await expect(page.get_by_role("alert")).to_contain_text("The patron already has a hold on this book.")

    # D12: the reader's tap asks first; dismissed, the hold stays; accepted, it is cancelled.
    phone = await (await new_context(viewport=PHONE)).new_page()
    await sign_in(phone, reader["email"], reader["password"], next_hash="/account")
    holds = phone.get_by_test_id("holds")
    await expect(holds.get_by_role("listitem")).to_have_count(1)
    asked: list[str] = []

    async def answer(dialog, accept: bool) -> None:
        asked.append(dialog.message)
        await (dialog.accept() if accept else dialog.dismiss())

    phone.once("dialog", lambda dialog: answer(dialog, False))
    await holds.get_by_role("button", name=f"Cancel hold on “{title}”").click()
    await expect(holds.get_by_role("listitem")).to_have_count(1)
    for _ in range(50):  # the handler answers the dialog as the click ends
        if asked:
            break
        await asyncio.sleep(0.1)
    assert len(asked) == 1 and title in asked[0], asked
    phone.once("dialog", lambda dialog: answer(dialog, True))
    await holds.get_by_role("button", name=f"Cancel hold on “{title}”").click()
    await expect(phone.get_by_text("You have no holds.")).to_be_visible()
    assert len(asked) == 2


async def test_a_reference_only_title_offers_no_hold_and_fits_a_russian_phone(
    new_context, rest: httpx.AsyncClient, admin, librarian, unique_email
) -> None:
    code = f"REF{random.randint(10000, 99999)}"
    kind = {"code": code, "description": "Reference", "not_for_loan": True}
    assert (await rest.post("/v1/itemTypes", json=kind, headers=admin.headers)).status_code == 200
    book = await _book(rest, librarian, f"Encyclopaedia {code}", item_type=code, call_number="030 ENC")
    reader = await register(rest, unique_email(), f"Reader {code}")
    page = await (await new_context(viewport=PHONE)).new_page()
    await sign_in(page, reader["email"], reader["password"], next_hash=f"/books/{book.split('/')[-1]}")
    await expect(page.get_by_test_id("reference-only")).to_contain_text("for use in the library only")
    await expect(page.get_by_role("button", name="Place a hold")).to_have_count(0)
    await page.get_by_role("button", name="RU").click()
    await expect(page.locator(".table-wrap .badge.reference")).to_have_text("только для читального зала")
    overflow = await page.locator(".table-wrap").first.evaluate("(wrap) => wrap.scrollWidth - wrap.clientWidth")
    assert overflow <= 0


async def test_item_types_clear_the_last_notice_and_reload_after_a_conflict(
    page: Page, rest: httpx.AsyncClient, admin
) -> None:
    code = f"WEB{random.randint(10000, 99999)}"
    await sign_in(page, admin.email, admin.password, next_hash="/rules")
    try:
        for said in (f"Item type {code} added.", "An item type with this code already exists."):
            await page.get_by_label("Code", exact=True).fill(code)
            await page.get_by_label("Description", exact=True).fill("Board games")
            await page.get_by_role("button", name="Add item type").click()
            await expect(page.get_by_text(said)).to_be_visible()
        await expect(page.get_by_text("An item type with this code already exists.")).to_be_visible()
        await expect(page.get_by_text(f"Item type {code} added.")).to_have_count(0)  # D4

        item = page.get_by_test_id("item-types").get_by_role("listitem").filter(has_text=code)
        await item.get_by_role("button", name=f"Edit item type {code}").click()
        stored = (await rest.get(f"/v1/itemTypes/{code}", headers=admin.headers)).json()
        other = {"description": "Board games v2", "etag": stored["etag"]}
        changed = await rest.patch(
            f"/v1/itemTypes/{code}", params={"update_mask": "description"}, json=other, headers=admin.headers
        )
        assert changed.status_code == 200, changed.text
        await page.get_by_label("Description", exact=True).fill("Board and card games")
        await page.get_by_role("button", name="Save item type").click()
        await expect(page.get_by_role("alert")).to_contain_text("Someone changed this at the same time")
        await expect(item).to_contain_text("Board games v2")  # D13: the list read again
        await page.get_by_role("button", name="Save item type").click()
        await expect(page.get_by_text(f"Item type {code} saved.")).to_be_visible()
        await page.get_by_role("button", name="RU").click()
        await expect(page.get_by_text(f"Тип {code} сохранён.")).to_be_visible()  # D4: said when shown
        stored = (await rest.get(f"/v1/itemTypes/{code}", headers=admin.headers)).json()
        assert stored["description"] == "Board and card games"
    finally:
        await rest.delete(f"/v1/itemTypes/{code}", headers=admin.headers)
