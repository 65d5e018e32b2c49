"""The desk says its answers through the app's one polite and one assertive live line (web/js/a11y.js), once each.
It had a status line and an assertive line of its own beside the app's two: four live regions on the desk, its
answers said in other lines than every other page's. A probe in the page records every text put into a live
region that was already there (what a screen reader reads out)."""

from __future__ import annotations

import uuid

import httpx
import pytest
from browser_helpers import register, scan, sign_in
from playwright.async_api import Page, expect

pytestmark = pytest.mark.e2e

PROBE = """
window.__said = [];
new MutationObserver((records) => {
  const changed = new Set();
  for (const record of records) {
    const node = record.target.nodeType === 1 ? record.target : record.target.parentElement;
    const live = node && node.closest('[aria-live],[role=status],[role=alert],[role=log]');
    if (live) changed.add(live);
  }
  for (const live of changed) {
    const text = live.textContent.trim();
    if (text) window.__said.push({ line: live.id || live.dataset.testid || live.tagName, text });
  }
}).observe(document, { subtree: true, childList: true, characterData: true });
"""
LIVE_REGIONS = """() => [...document.querySelectorAll('[aria-live],[role=status],[role=alert],[role=log]')]
  .map((region) => region.id || region.dataset.testid || region.tagName)"""


async def _copy(rest: httpx.AsyncClient, staff) -> str:
    made = await rest.post("/v1/books", json={"title": "Said once", "authors": ["Teffi"]}, headers=staff.headers)
    assert made.status_code == 200, made.text
    barcode = f"36{uuid.uuid4().int % 10**10:010d}"
    copy = {"barcode": barcode, "branch": "MAIN"}
    added = await rest.post(f"/v1/{made.json()['name']}/copies", json=copy, headers=staff.headers)
    assert added.status_code == 200, added.text
    return barcode


async def test_each_desk_answer_is_said_once_through_the_app_lines_and_the_desk_has_no_lines_of_its_own(
    page: Page, rest: httpx.AsyncClient, librarian, unique_email
) -> None:
    reader = await register(rest, unique_email(), "Sasha Cherny")
    barcode = await _copy(rest, librarian)
    await page.add_init_script(PROBE)
    await sign_in(page, librarian.email, librarian.password, next_hash="/desk")
    await scan(page, "desk-card", reader["card_number"])
    await expect(page.get_by_test_id("desk-patron")).to_contain_text("Sasha Cherny")
    await scan(page, "desk-barcode", "NOPE789")
    await scan(page, "desk-barcode", barcode)
    log = page.get_by_test_id("desk-log")
    await expect(log.locator("li.refused")).to_contain_text("NOPE789 refused")
    await expect(log.locator("li.ok").first).to_contain_text(f"Issued “Said once” ({barcode})")
    assert sorted(await page.evaluate(LIVE_REGIONS)) == ["announce-alert", "announce-status"]

    await page.get_by_role("link", name="Patrons").click()
    await expect(page.get_by_role("heading", name="Patrons")).to_be_visible()
    await page.get_by_role("link", name="Desk").click()
    await expect(log.locator("li.refused")).to_have_count(1)
    await page.get_by_role("button", name="RU").click()
    await expect(page.get_by_role("heading", name="Стойка выдачи")).to_be_visible()
    await page.wait_for_timeout(300)  # anything the redraws would say has been put in by now

    said = await page.evaluate("() => window.__said")
    answers = {
        "patron": ("announce-status", f"Patron: Sasha Cherny, card {reader['card_number']}"),
        "refusal": ("announce-alert", "NOPE789 refused"),
        "issued": ("announce-status", f"Issued “Said once” ({barcode})"),
    }
    for line, words in answers.values():
        where = [entry["line"] for entry in said if words in entry["text"]]
        assert where == [line], (words, said)
