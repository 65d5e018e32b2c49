"""Keyboard and screen-reader users after a change (accessibility findings A6, A7, A13, A19, A20): the control
they pressed keeps the focus when its row or form is redrawn, a form that opens takes it and gives it back when
it closes, and a result is said in a status line that was in the page before it."""

from __future__ import annotations

import random
import uuid
from datetime import date, timedelta

import httpx
import pytest
from browser_helpers import register, sign_in
from playwright.async_api import Page, expect

pytestmark = pytest.mark.e2e


async def press(page: Page, locator) -> None:
    """What a keyboard user does: the focus on the control, then Enter."""
    await locator.focus()
    await page.keyboard.press("Enter")


async def test_block_and_save_role_on_the_users_page_keep_the_focus_and_name_the_user(
    page: Page, rest: httpx.AsyncClient, admin, unique_email
) -> None:
    name = f"Focus Tester {uuid.uuid4().hex[:6]}"
    user = await register(rest, unique_email(), name)
    await sign_in(page, admin.email, admin.password, next_hash="/users")
    await page.locator("#users-query").fill(user["email"])
    await page.keyboard.press("Enter")
    row = page.get_by_role("row").filter(has=page.get_by_role("rowheader", name=name))
    await expect(row).to_have_count(1)

    await row.get_by_label("Reason to block").fill("testing the focus")
    await press(page, row.get_by_role("button", name=f"Block {name}"))
    await expect(page.get_by_text(f"{name} is blocked.")).to_be_visible()
    await expect(row.get_by_role("button", name=f"Unblock {name}")).to_be_focused()

    await row.get_by_label(f"Role of {name}", exact=True).select_option("USER_ROLE_LIBRARIAN")
    await press(page, row.get_by_role("button", name=f"Save {name}'s role"))
    await expect(page.get_by_text(f"{name}: role changed.")).to_be_visible()
    await expect(row.get_by_role("button", name=f"Save {name}'s role")).to_be_focused()


async def test_saving_a_rule_adding_an_item_type_and_opening_a_day_again_keep_the_focus(
    page: Page, rest: httpx.AsyncClient, admin
) -> None:
    category = f"FOCUS{random.randint(10000, 99999)}"
    body = {"patron_category": category, "item_type": "*", "loan_period_days": 21}
    made = await rest.post("/v1/circulationRules", json=body, headers=admin.headers)
    assert made.status_code == 200, made.text
    rule = made.json()["name"]
    code = f"FOC{random.randint(10000, 99999)}"
    # Within the ten years ahead a closed day may be.
    first = date.today() + timedelta(days=random.randint(2000, 3500))
    second = first + timedelta(days=1)
    for day in (first, second):
        closing = {"date": day.isoformat(), "reason": "focus"}
        closed = await rest.post("/v1/closedDays", json=closing, headers=admin.headers)
        assert closed.status_code == 200, closed.text
    try:
        await sign_in(page, admin.email, admin.password, next_hash="/rules")
        rule_id = rule.split("/")[-1]
        await page.locator(f"#rule-{rule_id}-loan_period_days").fill("29")
        save = page.locator(f"#rule-{rule_id}-save")
        await press(page, save)
        await expect(page.get_by_text(f"Rule {category} / * saved.")).to_be_visible()
        await expect(save).to_be_focused()

        await page.get_by_label("Code", exact=True).fill(code)
        await page.get_by_label("Description", exact=True).fill("Discs")
        await press(page, page.get_by_role("button", name="Add item type"))
        await expect(page.get_by_text(f"Item type {code} added.")).to_be_visible()
        await expect(page.get_by_label("Code", exact=True)).to_be_focused()

        await press(page, page.locator(f"#open-again-{first.isoformat()}"))
        await expect(page.get_by_text("The library is open again on")).to_be_visible()
        await expect(page.locator(f"#open-again-{first.isoformat()}")).to_have_count(0)
        await expect(page.locator(f"#open-again-{second.isoformat()}")).to_be_focused()
    finally:
        await rest.delete(f"/v1/{rule}", headers=admin.headers)
        await rest.delete(f"/v1/itemTypes/{code}", headers=admin.headers)
        for day in (first, second):
            await rest.delete(f"/v1/closedDays/{day.isoformat()}", headers=admin.headers)


async def test_blocking_a_patron_on_their_page_keeps_the_focus_on_the_form(
    page: Page, rest: httpx.AsyncClient, librarian, unique_email
) -> None:
    reader = await register(rest, unique_email(), "Blocked Focus")
    await sign_in(page, librarian.email, librarian.password, next_hash=f"/patrons/{reader['name'].split('/')[-1]}")
    await page.get_by_label("Reason (the patron is told it)").fill("testing the focus")
    await page.keyboard.press("Enter")
    await expect(page.get_by_test_id("patron-status")).to_contain_text("blocked")
    await expect(page.get_by_role("button", name="Unblock", exact=True)).to_be_focused()


async def test_set_a_new_password_opens_into_its_field_and_gives_the_focus_back(
    page: Page, rest: httpx.AsyncClient, librarian, unique_email
) -> None:
    reader = await register(rest, unique_email(), "Password Focus")
    await sign_in(page, librarian.email, librarian.password, next_hash=f"/patrons/{reader['name'].split('/')[-1]}")
    opener = page.get_by_role("button", name="Set a new password")
    status = page.get_by_test_id("patron-password-status")
    await expect(status).to_have_text("")  # the notice's place is there before the result

    await press(page, opener)
    await expect(page.get_by_label("New password", exact=True)).to_be_focused()
    await page.keyboard.press("Escape")
    await expect(opener).to_be_focused()

    await page.keyboard.press("Enter")
    await expect(page.get_by_label("New password", exact=True)).to_be_focused()
    await page.keyboard.type("Another-Horse-77")
    await page.keyboard.press("Enter")
    await expect(status).to_contain_text("The new password is set.")
    await expect(page.locator("#announce-status")).to_contain_text("The new password is set.")  # the app's line
    await expect(opener).to_be_focused()


async def test_a_copy_added_after_a_new_book_is_said_in_a_status_line(page: Page, librarian) -> None:
    await sign_in(page, librarian.email, librarian.password, next_hash="/books-new")
    await page.get_by_label("Title").fill(f"Focus copies {uuid.uuid4().hex[:6]}")
    await page.keyboard.press("Enter")
    barcode_field = page.get_by_label("Barcode")
    await expect(barcode_field).to_be_focused()
    status = page.get_by_test_id("copy-added")
    await expect(status).to_have_text("")
    barcode = f"FC{uuid.uuid4().int % 10**10:010d}"
    await page.keyboard.type(barcode)
    await page.keyboard.press("Enter")
    await expect(status).to_have_text(f"Copy {barcode} added at MAIN. Copies added: 1.")
    await expect(page.locator("#announce-status")).to_have_text(f"Copy {barcode} added at MAIN. Copies added: 1.")
    await expect(barcode_field).to_be_focused()


async def test_a_session_ended_under_the_desk_is_said_as_an_alert_and_the_focus_goes_to_its_heading(
    page: Page, librarian
) -> None:
    await sign_in(page, librarian.email, librarian.password, next_hash="/desk")
    await expect(page.locator("#desk-card")).to_be_focused()
    other = await page.context.new_page()
    await other.goto("/#/")
    await other.get_by_role("button", name="Sign out").click()
    await expect(page.get_by_role("alert")).to_contain_text("nothing typed since was done")
    await expect(page.get_by_role("heading", level=1)).to_be_focused()
