"""The desk at a busy, unreliable counter: a scan whose answer was lost, a slow link, a session that ends
mid-shift, a trip to another page, a failed card look-up in the middle of a scan, and what a screen reader
hears of the log."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest
from browser_helpers import register, scan, sign_in
from playwright.async_api import Page, Route, expect

pytestmark = pytest.mark.e2e


async def test_a_scan_whose_answer_was_lost_is_not_known_and_scanning_it_again_gets_the_first_answer(
    page: Page, rest: httpx.AsyncClient, one_copy_book, librarian, unique_email
) -> None:
    borrower = await register(rest, unique_email(), "Boris Pasternak")
    barcode = one_copy_book.barcodes[0]
    request_ids: list[str] = []

    async def answer_lost(route: Route) -> None:
        request_ids.append(json.loads(route.request.post_data or "{}")["request_id"])
        await route.fetch()  # the server does it...
        await route.abort("connectionreset")  # ...and its answer never arrives

    await sign_in(page, librarian.email, librarian.password)
    await scan(page, "desk-card", borrower["card_number"])
    await expect(page.get_by_test_id("desk-patron")).to_contain_text("Boris Pasternak")
    await page.route("**/v1/loans:issue", answer_lost)
    await scan(page, "desk-barcode", barcode)
    log = page.get_by_test_id("desk-log")
    await expect(log.locator("li").first).to_contain_text(f"{barcode}: no answer, so the loan may have been made.")
    await expect(log.locator("li").first).to_contain_text("Scan it again to check")
    await expect(log.locator("li.refused")).to_have_count(0)
    await expect(page.get_by_test_id("desk-patron")).to_contain_text("1 on loan")

    await page.unroute("**/v1/loans:issue")
    async with page.expect_request("**/v1/loans:issue") as again:
        await scan(page, "desk-barcode", barcode)
    request_ids.append(json.loads((await again.value).post_data or "{}")["request_id"])
    await expect(log.locator("li").first).to_contain_text(f"Issued “{one_copy_book.title}” ({barcode})")
    assert request_ids[0] == request_ids[1]
    loans = await rest.get(
        f"/v1/{borrower['name']}/loans",
        params={"status": "LOAN_STATUS_ACTIVE"},
        headers={"authorization": f"Bearer {borrower['access_token']}"},
    )
    assert len(loans.json()["loans"]) == 1, loans.text


async def test_each_scan_shows_at_once_and_a_refusal_is_one_alert_in_a_valid_list(
    page: Page, rest: httpx.AsyncClient, one_copy_book, librarian, unique_email
) -> None:
    borrower = await register(rest, unique_email(), "Andrei Platonov")

    async def slowly(route: Route) -> None:
        await asyncio.sleep(2)
        await route.continue_()

    await sign_in(page, librarian.email, librarian.password)
    await scan(page, "desk-card", borrower["card_number"])
    await expect(page.get_by_test_id("desk-patron")).to_contain_text("Andrei Platonov")
    await page.route("**/v1/loans:issue", slowly)
    await scan(page, "desk-barcode", "NOPE123")
    await scan(page, "desk-barcode", one_copy_book.barcodes[0])
    log = page.get_by_test_id("desk-log")
    await expect(log.locator("li.sent")).to_have_count(2, timeout=1_000)  # before any answer
    await expect(log.locator("li.sent").last).to_have_text("NOPE123: sent, waiting for the answer…")

    await expect(log.locator("li.refused")).to_have_count(1)
    await expect(log.locator("li.ok")).to_have_count(1)
    structure = await page.evaluate(
        """() => {
          const list = document.querySelector('[data-testid="desk-log"]');
          return {
            live: list.closest('[aria-live]') !== null,
            roles: [...list.children].map((item) => item.tagName + (item.getAttribute('role') || '')),
            alerts: [...document.querySelectorAll('[role=alert],[aria-live=assertive]')]
              .filter((alert) => alert.textContent.trim())
              .map((alert) => ({
              text: alert.textContent,
              inLive: alert.parentElement.closest('[aria-live],[role=alert],[role=status],[role=log]') !== null,
            })),
          };
        }"""
    )
    assert structure["live"] is False
    assert structure["roles"] == ["LI", "LI", "LI"]  # the two scans, and the card's (whom it found: finding A1)
    assert len(structure["alerts"]) == 1 and "NOPE123 refused" in structure["alerts"][0]["text"]
    assert structure["alerts"][0]["inLive"] is False


async def test_the_desk_keeps_its_log_and_patron_across_another_page_and_a_session_that_ended(
    page: Page, rest: httpx.AsyncClient, library, librarian, unique_email
) -> None:
    borrower = await register(rest, unique_email(), "Vera Inber")
    first, second = library["Heart of a Dog"].barcodes[0], library["The White Guard"].barcodes[1]
    await sign_in(page, librarian.email, librarian.password)
    await scan(page, "desk-card", borrower["card_number"])
    await scan(page, "desk-barcode", first)
    log = page.get_by_test_id("desk-log")
    await expect(log.locator("li.ok")).to_contain_text("Issued “Heart of a Dog”")

    await page.get_by_role("link", name="Patrons").click()
    await expect(page.get_by_role("heading", name="Patrons")).to_be_visible()
    await page.go_back()
    await expect(page.get_by_test_id("desk-patron")).to_contain_text("Vera Inber")
    await expect(log.locator("li.ok")).to_contain_text("Issued “Heart of a Dog”")
    await expect(page.locator("#desk-barcode")).to_be_focused()

    ended = {"status": 401, "json": {"code": 16, "message": "expired", "details": []}}
    await page.route("**/v1/loans:issue", lambda route: route.fulfill(**ended))
    await page.route("**/v1/auth/refresh", lambda route: route.fulfill(**ended))
    await scan(page, "desk-barcode", second)
    await expect(page.get_by_role("heading", name="Your session has ended")).to_be_visible()

    await page.unroute("**/v1/loans:issue")
    await page.unroute("**/v1/auth/refresh")
    await page.get_by_role("link", name="Sign in").last.click()
    await page.get_by_label("Email").fill(librarian.email)
    await page.get_by_label("Password").fill(librarian.password)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("heading", name="Circulation desk")).to_be_visible()
    await expect(page.get_by_test_id("desk-patron")).to_contain_text("Vera Inber")
    await expect(log.locator("li.ok")).to_contain_text("Issued “Heart of a Dog”")
    await expect(log.locator("li").first).to_have_text(
        f"{second} not done: your session has ended. Sign in again, then scan it again."
    )
    await expect(page.locator("#desk-barcode")).to_be_focused()


async def test_a_code_scanned_while_a_card_is_not_found_stays_one_code_and_the_mode_button_gives_the_focus_back(
    page: Page, library, librarian
) -> None:
    barcode = library["Anna Karenina"].barcodes[1]
    await sign_in(page, librarian.email, librarian.password)
    await page.get_by_role("button", name="Issue").click()
    await expect(page.locator("#desk-card")).to_be_focused()  # not left on the button

    async def answer_mid_code(route) -> None:  # the look-up answers after the first keys of the code, not before
        await asyncio.sleep(0.15)
        await route.continue_()

    await page.route("**/v1/users?*", answer_mid_code)
    await page.keyboard.type("29999999999999")
    await page.keyboard.press("Enter")
    await page.keyboard.type(barcode, delay=30)  # a slow scanner: the look-up answers mid-code
    await page.keyboard.press("Enter")
    log = page.get_by_test_id("desk-log")
    await expect(log.locator("li").first).to_have_text(f"{barcode} refused: Scan the patron's library card first.")
    await expect(log.locator("li")).to_have_count(2)
    await expect(log.locator("li").last).to_have_text("No patron has card 29999999999999.")
    await expect(page.locator("#desk-card")).to_be_focused()
