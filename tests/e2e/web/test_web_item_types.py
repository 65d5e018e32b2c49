"""The list of item types in a real browser: an admin adds one under the rules matrix, marks it for reference
only, renames it (after a confirmation; a refused code is said at the field) and deletes it (after a
confirmation naming its circulation rules); each change shows what was done and the list follows."""

from __future__ import annotations

import asyncio
import random

import httpx
import pytest
from browser_helpers import sign_in
from playwright.async_api import Page, expect

pytestmark = pytest.mark.e2e


async def test_an_admin_adds_marks_and_deletes_an_item_type(page: Page, rest: httpx.AsyncClient, admin) -> None:
    code = f"WEB{random.randint(10000, 99999)}"
    await sign_in(page, admin.email, admin.password, next_hash="/rules")
    try:
        await page.get_by_label("Code", exact=True).fill(code.lower())
        await page.get_by_label("Description", exact=True).fill("Board games")
        await page.get_by_role("button", name="Add item type").click()
        await expect(page.get_by_text(f"Item type {code} added.")).to_be_visible()
        item = page.get_by_test_id("item-types").get_by_role("listitem").filter(has_text=code)
        await expect(item).to_contain_text("Board games")

        await item.get_by_role("button", name=f"Edit item type {code}").click()
        await page.get_by_label("For reference only (not for loan)").check()
        await page.get_by_role("button", name="Save item type").click()
        await expect(page.get_by_text(f"Item type {code} saved.")).to_be_visible()
        await expect(item).to_contain_text("for reference only")
        stored = await rest.get(f"/v1/itemTypes/{code}", headers=admin.headers)
        assert (stored.json()["description"], stored.json()["not_for_loan"]) == ("Board games", True)

        asked: list[str] = []
        page.once("dialog", lambda dialog: asked.append(dialog.message) or dialog.accept())
        await item.get_by_role("button", name=f"Delete item type {code}").click()
        await expect(page.get_by_text(f"Item type {code} deleted.")).to_be_visible()
        assert "circulation rules that name it are deleted with it" in asked[0]
        await expect(item).to_have_count(0)
        assert (await rest.get(f"/v1/itemTypes/{code}", headers=admin.headers)).status_code == 404
    finally:
        await rest.delete(f"/v1/itemTypes/{code}", headers=admin.headers)  # 404 when the page did it


async def test_an_admin_renames_an_item_type_after_a_confirmation_and_a_refusal_at_the_field(
    page: Page, rest: httpx.AsyncClient, admin
) -> None:
    number = random.randint(10000, 99999)
    code, taken, new = f"OLD{number}", f"TAKEN{number}", f"NEW{number}"
    for made in (code, taken):
        created = await rest.post("/v1/itemTypes", json={"code": made, "description": "Discs"}, headers=admin.headers)
        assert created.status_code == 200, created.text
    await sign_in(page, admin.email, admin.password, next_hash="/rules")
    try:
        item = page.get_by_test_id("item-types").get_by_role("listitem").filter(has_text=code)
        await item.get_by_role("button", name=f"Rename item type {code}").click()
        new_code = page.get_by_label("New code", exact=True)
        asked: list[str] = []

        async def answer(dialog, accept: bool) -> None:  # type: ignore[no-untyped-def]
            asked.append(dialog.message)
            await (dialog.accept() if accept else dialog.dismiss())

        page.once("dialog", lambda dialog: answer(dialog, False))
        await new_code.fill(new.lower())
        await page.get_by_role("button", name="Rename item type", exact=True).click()
        for _ in range(50):  # the handler answers the dialog as the click ends
            if asked:
                break
            await asyncio.sleep(0.05)
        assert f"Rename item type {code} to {new}?" in asked[0]
        assert (await rest.get(f"/v1/itemTypes/{code}")).status_code == 200  # dismissed: nothing done

        page.once("dialog", lambda dialog: answer(dialog, True))
        await new_code.fill(taken)
        await page.get_by_role("button", name="Rename item type", exact=True).click()
        await expect(page.locator("#item-type-new-code-error")).to_have_text(
            "An item type with this code already exists."
        )
        await expect(new_code).to_have_attribute("aria-invalid", "true")

        page.once("dialog", lambda dialog: answer(dialog, True))
        await new_code.fill("not a code")
        await page.get_by_role("button", name="Rename item type", exact=True).click()
        await expect(page.locator("#item-type-new-code-error")).to_contain_text("Up to 20 letters")

        page.once("dialog", lambda dialog: answer(dialog, True))
        await new_code.fill(new.lower())
        await page.get_by_role("button", name="Rename item type", exact=True).click()
        await expect(page.get_by_text(f"Item type {code} renamed {new}.")).to_be_visible()
        await expect(page.get_by_test_id("item-types").get_by_role("listitem").filter(has_text=new)).to_have_count(1)
        await expect(item).to_have_count(0)
        assert (await rest.get(f"/v1/itemTypes/{new}")).status_code == 200
        assert (await rest.get(f"/v1/itemTypes/{code}")).status_code == 404
    finally:
        for made in (code, taken, new):
            await rest.delete(f"/v1/itemTypes/{made}", headers=admin.headers)
