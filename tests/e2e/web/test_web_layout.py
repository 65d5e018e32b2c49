"""Tables that must fit their screen, measured in a real browser on a desktop and a phone, in both languages:
the rules matrix (its Save and Delete were cut off to the right of a 1280 px desktop) and the account page's
loans and fines (on a 390 px phone "Status" and the Russian "Renew" were past the card's edge)."""

from __future__ import annotations

import asyncio
import uuid

import httpx
import pytest
from browser_helpers import DESKTOP, PHONE, register, sign_in
from playwright.async_api import Locator, Page, expect

pytestmark = pytest.mark.e2e

VIEWPORTS = {"desktop": DESKTOP, "phone": PHONE}

# How far a table reaches past the box it scrolls in (0: it fits).
OVERFLOW = "(wrap) => wrap.scrollWidth - wrap.clientWidth"

# Whether a control can be seen where it is: inside its table's box and the window, and not covered (by the
# sticky column's neighbours, say). The page is scrolled down to it, never sideways: a person who has just
# typed into a cell sees the row as it is.
IN_SIGHT = """(control) => {
  window.scrollBy(0, control.getBoundingClientRect().top - innerHeight / 2);
  const box = control.getBoundingClientRect();
  const wrap = control.closest('.table-wrap').getBoundingClientRect();
  const top = document.elementFromPoint(box.left + box.width / 2, box.top + box.height / 2);
  const inside = box.left >= wrap.left && box.right <= wrap.right && box.right <= innerWidth;
  return inside && (top === control || control.contains(top))
    ? ''
    : `${control.textContent.trim()} at ${Math.round(box.left)}-${Math.round(box.right)}px, its table's box at `
      + `${Math.round(wrap.left)}-${Math.round(wrap.right)}px, the window ${innerWidth}px wide, `
      + `on top: ${top?.outerHTML.slice(0, 80)}`;
}"""


async def in_language(page: Page, language: str) -> None:
    """Switch the page's language as a person would (it signs in in English)."""
    if language == "ru":
        await page.get_by_role("button", name="RU").click()
        await expect(page.locator("html")).to_have_attribute("lang", "ru")


async def assert_in_sight(control: Locator) -> None:
    assert await control.evaluate(IN_SIGHT) == ""


@pytest.mark.parametrize("language", ["en", "ru"])
@pytest.mark.parametrize("screen", ["desktop", "phone"])
async def test_the_rules_table_keeps_each_row_s_save_and_delete_in_sight(
    new_context, rest: httpx.AsyncClient, admin, screen: str, language: str
) -> None:
    category = f"WEB{uuid.uuid4().hex[:8].upper()}"
    rule = {"patron_category": category, "item_type": "BOOK", "loan_period_days": 21, "max_loans": 5}
    created = await rest.post("/v1/circulationRules", json=rule, headers=admin.headers)
    assert created.status_code == 200, created.text
    # A library's own long codes (a type's 20 characters, a category's 32, named by a department) wrap in their cells:
    # the full suite's rules named eleven-letter types and pushed the desktop's row past its width.
    long_type = f"REGIONAL_ILL_{uuid.uuid4().hex[:7].upper()}"  # a code's most: 20 characters
    kind = {"code": long_type, "description": "Borrowed from the region"}
    assert (await rest.post("/v1/itemTypes", json=kind, headers=admin.headers)).status_code == 200
    wide = {**rule, "patron_category": f"{category}_RESEARCH_STAFF", "item_type": long_type}
    assert (await rest.post("/v1/circulationRules", json=wide, headers=admin.headers)).status_code == 200
    page = await (await new_context(viewport=VIEWPORTS[screen])).new_page()
    await sign_in(page, admin.email, admin.password, next_hash="/rules")
    await in_language(page, language)
    row = page.get_by_role("row").filter(has_text=category)
    await row.locator("input[inputmode=numeric]").first.fill("30")  # an edited row: its Save is enabled

    for button in await row.get_by_role("button").all():
        await assert_in_sight(button)
    if screen == "desktop":
        assert await page.locator(".table-wrap").evaluate(OVERFLOW) <= 0, "the whole row fits a desktop"


@pytest.mark.parametrize("language", ["en", "ru"])
@pytest.mark.parametrize("screen", ["desktop", "phone"])
async def test_the_account_s_loans_and_fines_fit_the_screen(
    new_context, rest: httpx.AsyncClient, librarian, one_copy_book, unique_email, screen: str, language: str
) -> None:
    patron = await register(rest, unique_email(), "Anna Akhmatova")
    loan = {"patron": patron["name"], "barcode": one_copy_book.barcodes[0]}
    assert (await rest.post("/v1/loans:issue", json=loan, headers=librarian.headers)).status_code == 200
    for fine in (
        {"kind": "FINE_KIND_DAMAGED_ITEM", "description": "Water damage to the cover"},
        {"kind": "FINE_KIND_OTHER"},
    ):
        assessed = await rest.post(
            "/v1/fines", json={"patron": patron["name"], "amount": "13.50", **fine}, headers=librarian.headers
        )
        assert assessed.status_code == 200, assessed.text
    page = await (await new_context(viewport=VIEWPORTS[screen])).new_page()
    await sign_in(page, patron["email"], patron["password"], next_hash="/account")
    await in_language(page, language)
    loans, fines = page.get_by_test_id("loans"), page.get_by_test_id("fines")
    await expect(loans.get_by_role("row")).to_have_count(2)  # the header row and the loan
    await expect(fines.get_by_role("row")).to_have_count(3)

    overflows = {"loans": await loans.locator("xpath=..").evaluate(OVERFLOW)}
    overflows["fines"] = await fines.locator("xpath=..").evaluate(OVERFLOW)
    assert max(overflows.values()) <= 0, f"px wider than the box they scroll in: {overflows}"
    await assert_in_sight(loans.get_by_role("button"))
    assert await page.evaluate("() => document.documentElement.scrollWidth - innerWidth") <= 0


@pytest.mark.parametrize("language", ["en", "ru"])
async def test_the_staff_patron_page_audit_trail_and_copies_fit_a_phone(
    new_context, rest: httpx.AsyncClient, librarian, one_copy_book, unique_email, language: str
) -> None:
    patron = await register(rest, unique_email(), "Sofia Parnok")
    loan = {"patron": patron["name"], "barcode": one_copy_book.barcodes[0]}
    assert (await rest.post("/v1/loans:issue", json=loan, headers=librarian.headers)).status_code == 200
    page = await (await new_context(viewport=PHONE)).new_page()
    await sign_in(page, librarian.email, librarian.password, next_hash=f"/patrons/{patron['name'].split('/')[-1]}")
    await in_language(page, language)
    loans = page.get_by_test_id("patron-loans")
    await expect(loans.get_by_role("row")).to_have_count(2)
    assert await loans.locator("xpath=..").evaluate(OVERFLOW) <= 0
    await assert_in_sight(loans.get_by_role("button"))
    assert await page.evaluate("() => document.documentElement.scrollWidth - innerWidth") <= 0

    events = {"filter": f'resource = "{patron["name"]}"'}
    for _ in range(60):  # stored shortly after they are published
        if (await rest.get("/v1/events", params=events, headers=librarian.headers)).json().get("events"):
            break
        await asyncio.sleep(0.3)
    await page.goto(f"/#/audit?resource={patron['name']}&category=any")
    await expect(page.get_by_test_id("audit").get_by_role("row").nth(1)).to_be_visible()
    assert await page.evaluate("() => document.documentElement.scrollWidth - innerWidth") <= 0
    await page.goto(f"/#/books/{one_copy_book.id}")
    await expect(page.get_by_test_id("staff-copies")).to_contain_text(one_copy_book.barcodes[0])
    assert await page.evaluate("() => document.documentElement.scrollWidth - innerWidth") <= 0
