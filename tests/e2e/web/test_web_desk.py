"""The circulation desk in a real browser, driven as a barcode scanner drives it (type, Enter): issue, return,
the hold that becomes ready and what its patron then sees; a refusal said in plain words."""

from __future__ import annotations

import asyncio
import re
import uuid

import httpx
import pytest
from browser_helpers import register, scan, screenshot, sign_in
from playwright.async_api import Page, Route, expect

pytestmark = pytest.mark.e2e


async def test_scan_to_issue_scan_to_return_and_the_hold_becomes_ready_for_its_patron(
    page: Page, new_context, rest: httpx.AsyncClient, one_copy_book, librarian, unique_email, screenshot_dir
) -> None:
    borrower = await register(rest, unique_email(), "Marina Tsvetaeva")
    waiting = await register(rest, unique_email(), "Osip Mandelstam")
    barcode = one_copy_book.barcodes[0]

    await sign_in(page, librarian.email, librarian.password)
    await expect(page.get_by_role("heading", name="Circulation desk")).to_be_visible()
    await scan(page, "desk-card", borrower["card_number"])
    await expect(page.get_by_test_id("desk-patron")).to_contain_text("Marina Tsvetaeva")
    await scan(page, "desk-barcode", barcode)
    log = page.get_by_test_id("desk-log")
    await expect(log.locator("li").first).to_contain_text(f"Issued “{one_copy_book.title}” ({barcode}), due")

    hold = await rest.post(
        "/v1/holds",
        json={"patron": waiting["name"], "book": one_copy_book.name},
        headers={"authorization": f"Bearer {waiting['access_token']}"},
    )
    assert hold.status_code == 200 and hold.json()["status"] == "HOLD_STATUS_WAITING", hold.text

    await page.get_by_role("button", name="Return").click()
    await scan(page, "desk-barcode", barcode)
    await expect(log.locator("li.ok").first).to_contain_text(f"Returned “{one_copy_book.title}”")
    await expect(log.locator("li.shelf")).to_contain_text(f"reserved for Osip Mandelstam ({waiting['card_number']})")
    assert await page.evaluate("() => document.activeElement?.id") == "desk-barcode"
    await screenshot(page, screenshot_dir, "desk")
    await page.get_by_role("button", name="Issue").click()
    await expect(page.get_by_test_id("desk-patron")).to_contain_text("0 on loan")  # it said 1 after the return

    patron_page = await (await new_context()).new_page()
    await sign_in(patron_page, waiting["email"], waiting["password"])
    await expect(patron_page.get_by_role("heading", name="My account")).to_be_visible()
    ready = patron_page.get_by_test_id("holds").locator('[data-status="HOLD_STATUS_READY"]')
    await expect(ready).to_contain_text(one_copy_book.title)
    await expect(ready).to_contain_text(re.compile(r"Ready for pickup!.*until .*\d:\d\d\s[AP]M \S+", re.DOTALL))
    await screenshot(patron_page, screenshot_dir, "account")


async def test_a_due_time_is_shown_with_its_time_and_zone_on_any_screen(
    new_context, rest: httpx.AsyncClient, one_copy_book, librarian, unique_email
) -> None:
    """A date alone, in the browser's zone, was the day after the library's on a desk PC left on UTC (or a
    reader's phone abroad): the end of Sunday in New York read "Dec 21". The instant is said with its zone."""
    borrower = await register(rest, unique_email(), "Anna Akhmatova")
    desk = await (await new_context(timezone_id="UTC")).new_page()
    await sign_in(desk, librarian.email, librarian.password)
    await scan(desk, "desk-card", borrower["card_number"])
    await expect(desk.get_by_test_id("desk-patron")).to_contain_text("Anna Akhmatova")
    await scan(desk, "desk-barcode", one_copy_book.barcodes[0])
    issued = desk.get_by_test_id("desk-log").locator("li").first
    # The test mesh's library is on UTC: due at 23:59:59 UTC of the last day.
    await expect(issued).to_contain_text(re.compile(r", due \w{3}, \w{3} \d{1,2}, \d{4}, 11:59\sPM UTC\."))

    reader = await (await new_context(timezone_id="America/New_York")).new_page()
    await sign_in(reader, borrower["email"], borrower["password"])
    await expect(reader.get_by_test_id("loans")).to_contain_text(re.compile(r"\d{4}, [67]:59\sPM E[SD]T"))


async def test_a_refusal_at_the_desk_says_why_in_plain_words_in_either_language(
    page: Page, rest: httpx.AsyncClient, library, admin, librarian, unique_email
) -> None:
    # A patron category allowed one loan at a time, and a patron of it who already has one.
    category = f"WEB{uuid.uuid4().hex[:8].upper()}"
    rule = {
        "patron_category": category,
        "item_type": "*",
        "loan_period_days": 14,
        "max_loans": 1,
        "max_renewals": 1,
        "renewal_period_days": 7,
        "fine_per_day": "0.10",
        "holds_allowed": True,
        "max_holds": 2,
        "hold_pickup_days": 3,
    }
    created = await rest.post("/v1/circulationRules", json=rule, headers=admin.headers)
    assert created.status_code == 200, created.text
    patron = await register(rest, unique_email(), "Ivan Bunin")
    changed = await rest.patch(
        f"/v1/{patron['name']}",
        params={"update_mask": "patron_category"},
        json={"patron_category": category},
        headers=librarian.headers,
    )
    assert changed.status_code == 200, changed.text
    first, second = library["Anna Karenina"].barcodes[0], library["The Cherry Orchard"].barcodes[0]
    issued = await rest.post(
        "/v1/loans:issue", json={"patron": patron["name"], "barcode": first}, headers=librarian.headers
    )
    assert issued.status_code == 200, issued.text

    await sign_in(page, librarian.email, librarian.password)
    await scan(page, "desk-card", patron["card_number"])
    await expect(page.get_by_test_id("desk-patron")).to_contain_text("1 on loan")
    await expect(page.get_by_test_id("desk-patron")).to_contain_text("1 on loan · Nothing is owed.")  # was "owed: 0.00"
    await scan(page, "desk-barcode", second)
    refusal = page.get_by_test_id("desk-log").locator("li.refused").first
    await expect(refusal).to_have_attribute("data-reason", "LOAN_LIMIT_REACHED")
    await expect(refusal).to_contain_text("Loan limit reached: 1 of 1 books are already out. Return one first.")

    await page.get_by_role("button", name="RU").click()
    await expect(page.get_by_role("heading", name="Стойка выдачи")).to_be_visible()
    await page.locator("#desk-barcode").focus()
    await scan(page, "desk-barcode", second)
    await expect(page.get_by_test_id("desk-log").locator("li.refused").first).to_contain_text(
        "Достигнут предел выдачи: на руках уже 1 из 1 книг."
    )


async def test_a_copy_scanned_right_after_the_card_is_issued_to_that_patron(
    page: Page, rest: httpx.AsyncClient, one_copy_book, librarian, unique_email
) -> None:
    """The copy's first characters went into the card field while the card was looked up, and were wiped."""
    borrower = await register(rest, unique_email(), "Velimir Khlebnikov")
    barcode = one_copy_book.barcodes[0]

    async def slowly(route: Route) -> None:
        await asyncio.sleep(1)  # the card's look-up is still on its way when the copy is scanned
        await route.continue_()

    await sign_in(page, librarian.email, librarian.password)
    await page.route(lambda url: "/v1/users?" in url, slowly)
    await expect(page.locator("#desk-card")).to_be_focused()
    await page.keyboard.type(borrower["card_number"])
    await page.keyboard.press("Enter")
    await page.keyboard.type(barcode)
    await page.keyboard.press("Enter")

    await expect(page.get_by_test_id("desk-patron")).to_contain_text("Velimir Khlebnikov")
    await expect(page.get_by_test_id("desk-log").locator("li").first).to_contain_text(
        f"Issued “{one_copy_book.title}” ({barcode})"
    )
    await page.get_by_role("button", name="Next patron").click()
    await page.keyboard.type("29000000000000")  # no such card: the copy scanned after it is not issued
    await page.keyboard.press("Enter")
    await page.keyboard.type(barcode)
    await page.keyboard.press("Enter")
    await expect(page.get_by_test_id("desk-log").locator("li").first).to_have_text(
        f"{barcode} refused: Scan the patron's library card first."
    )
    await expect(page.locator("#desk-card")).to_be_focused()
