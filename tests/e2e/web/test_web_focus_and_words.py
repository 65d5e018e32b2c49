"""Keyboard focus after an action, what a screen reader is told, and words that say what happened: the
language a reader signs up in, a sign-up or hold whose answer was lost, money in refusals, the branch whose
shelf a ready hold waits on."""

from __future__ import annotations

import asyncio
import re
import time
import uuid

import httpx
import pytest
from browser_helpers import receive_hold_copy, register, scan, sign_in
from playwright.async_api import Page, Route, expect

pytestmark = pytest.mark.e2e


async def answer_lost(route: Route) -> None:
    """The call reaches the server and is done there; its answer never reaches the page."""
    await route.fetch()
    await route.abort("connectionreset")


async def test_a_sign_up_in_russian_gets_its_welcome_in_russian_and_a_lost_answer_is_retried_as_one(
    new_context, rest: httpx.AsyncClient, unique_email
) -> None:
    page = await (await new_context(locale="ru-RU")).new_page()
    email, password = unique_email(), "Correct-Horse-42"
    await page.goto("/#/register")
    await page.locator("#reg-email").fill(email)
    await page.locator("#reg-name").fill("Ольга Берггольц")
    await page.locator("#reg-password").fill(password)
    await page.route("**/v1/auth/register", answer_lost)
    await page.get_by_role("button", name="Зарегистрироваться").click()
    await expect(page.get_by_role("alert")).to_be_visible()
    await page.unroute("**/v1/auth/register")
    await page.get_by_role("button", name="Зарегистрироваться").click()
    await expect(page.get_by_role("heading", name="Мой кабинет")).to_be_visible()  # not "this email exists"

    token = (await rest.post("/v1/auth/login", json={"email": email, "password": password})).json()["tokens"]
    headers = {"authorization": f"Bearer {token['access_token']}"}
    deadline = time.monotonic() + 30  # users -> NATS -> notifications: 10 s is tight when busy
    while not (notices := (await rest.get("/v1/users/me/notifications", headers=headers)).json().get("notifications")):
        assert time.monotonic() < deadline, "no welcome was recorded"
        await asyncio.sleep(0.1)
    templates = [notice["template"] for notice in notices]
    assert templates and all(template.endswith("_ru") for template in templates), templates

    await page.locator("#pref-locale").select_option("en")
    await page.get_by_role("button", name="Сохранить").click()
    await expect(page.get_by_text("Сохранено.")).to_be_visible()
    assert (await rest.get("/v1/users/me", headers=headers)).json()["locale"] == "en"


async def test_a_hold_whose_answer_was_lost_does_not_say_it_was_not_placed(
    page: Page, rest: httpx.AsyncClient, one_copy_book, unique_email
) -> None:
    reader = await register(rest, unique_email(), "Daniil Kharms")
    await sign_in(page, reader["email"], reader["password"], next_hash=f"/books/{one_copy_book.id}")
    await page.route("**/v1/holds?*", answer_lost)
    await page.get_by_role("button", name="Place a hold").click()
    alert = page.get_by_role("alert")
    await expect(alert).to_contain_text("No answer came, so the hold may have been placed.")
    await expect(alert).not_to_contain_text("was not placed")


async def test_a_ready_hold_without_a_pickup_branch_says_the_branch_whose_shelf_it_waits_on(
    page: Page, rest: httpx.AsyncClient, one_copy_book, librarian, unique_email
) -> None:
    reader = await register(rest, unique_email(), "Vera Panova")  # no home branch
    held = await rest.post(
        "/v1/holds",
        json={"patron": reader["name"], "book": one_copy_book.name},
        headers={"authorization": f"Bearer {reader['access_token']}"},
    )
    assert held.status_code == 200 and held.json()["pickup_branch"] == "", held.text
    await receive_hold_copy(rest, librarian, held.json()["name"])

    await sign_in(page, reader["email"], reader["password"])
    ready = page.get_by_test_id("holds").locator('[data-status="HOLD_STATUS_READY"]')
    await expect(ready).to_contain_text(re.compile("A copy waits for you at main until", re.IGNORECASE))  # MAIN: listed
    desk = await page.context.browser.new_page(base_url=page.url.split("/#")[0])
    await sign_in(desk, librarian.email, librarian.password, next_hash="/holdshelf")
    page = desk
    row = page.locator(f'[data-hold="{held.json()["name"]}"]')
    await expect(row.locator("td").nth(3)).to_have_text(re.compile("^main$", re.IGNORECASE))  # the copy's branch


async def test_money_in_a_refusal_is_written_as_on_the_rest_of_the_page(
    page: Page, rest: httpx.AsyncClient, library, admin, librarian, unique_email
) -> None:
    category = f"WEB{uuid.uuid4().hex[:8].upper()}"
    rule = {
        "patron_category": category,
        "item_type": "*",
        "loan_period_days": 14,
        "max_loans": 5,
        "max_renewals": 1,
        "renewal_period_days": 7,
        "fine_per_day": "0.10",
        "holds_allowed": True,
        "max_holds": 2,
        "hold_pickup_days": 3,
        "max_outstanding_fines": "10.00",
    }
    created = await rest.post("/v1/circulationRules", json=rule, headers=admin.headers)
    assert created.status_code == 200, created.text
    patron = await register(rest, unique_email(), "Anna Radlova")
    changed = await rest.patch(
        f"/v1/{patron['name']}",
        params={"update_mask": "patron_category"},
        json={"patron_category": category},
        headers=librarian.headers,
    )
    assert changed.status_code == 200, changed.text
    fine = {"patron": patron["name"], "amount": "12.50", "kind": "FINE_KIND_OTHER", "description": "Lost card"}
    assert (await rest.post("/v1/fines", json=fine, headers=librarian.headers)).status_code == 200

    await sign_in(page, librarian.email, librarian.password)
    await page.get_by_role("button", name="RU").click()
    await page.locator("#desk-card").focus()
    await scan(page, "desk-card", patron["card_number"])
    await expect(page.get_by_test_id("desk-patron")).to_contain_text("12,50")
    await scan(page, "desk-barcode", library["Anna Karenina"].barcodes[0])
    refusal = page.get_by_test_id("desk-log").locator("li.refused").first
    await expect(refusal).to_have_attribute("data-reason", "FINES_LIMIT_EXCEEDED")
    await expect(refusal).to_contain_text("Неоплаченные штрафы (12,50")
    await expect(refusal).to_contain_text("допустимых 10,00")


async def test_paying_a_fine_by_keyboard_in_russian(
    page: Page, rest: httpx.AsyncClient, librarian, unique_email
) -> None:
    patron = await register(rest, unique_email(), "Mikhail Zoshchenko")
    fine = {"patron": patron["name"], "amount": "12.50", "kind": "FINE_KIND_OTHER", "description": "Spilled tea"}
    assert (await rest.post("/v1/fines", json=fine, headers=librarian.headers)).status_code == 200
    await sign_in(page, librarian.email, librarian.password, next_hash=f"/patrons/{patron['name'].split('/')[-1]}")
    await page.get_by_role("button", name="RU").click()
    row = page.get_by_role("row").filter(has_text="Spilled tea")
    amount = row.get_by_label("Внесённая сумма")
    await expect(amount).to_have_value("12,50")
    await amount.fill("2,5")
    await amount.press("Enter")
    done = page.get_by_test_id("fines-done")
    await expect(done).to_have_text("Оплата записана.")
    await expect(done).to_be_focused()
    await expect(row.get_by_label("Внесённая сумма")).to_have_value("10,00")


async def test_focus_stays_on_renew_and_save_and_goes_to_the_phone_field_it_is_missing_from(
    page: Page, rest: httpx.AsyncClient, library, librarian, unique_email
) -> None:
    patron = await register(rest, unique_email(), "Yury Olesha")
    issued = await rest.post(
        "/v1/loans:issue",
        json={"patron": patron["name"], "barcode": library["The Cherry Orchard"].barcodes[1]},
        headers=librarian.headers,
    )
    assert issued.status_code == 200, issued.text
    await sign_in(page, patron["email"], patron["password"])
    renew = page.get_by_role("button", name="Renew The Cherry Orchard")
    await renew.focus()
    await page.keyboard.press("Enter")
    await expect(page.get_by_test_id("renew-result")).to_contain_text("is now due by")
    await expect(renew).to_be_focused()

    save = page.get_by_role("button", name="Save")
    await save.focus()
    await page.keyboard.press("Enter")
    await expect(page.get_by_text("Saved.")).to_be_visible()
    await expect(save).to_be_focused()

    await page.get_by_label("Send me text messages").check()
    await save.click()
    await expect(page.locator("#pref-phone")).to_be_focused()
    await expect(page.locator("#pref-phone")).to_have_attribute("aria-invalid", "true")
