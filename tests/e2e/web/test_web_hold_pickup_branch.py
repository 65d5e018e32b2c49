"""A waiting hold's pickup branch changed from the web (UpdateHold): on the reader's account page and on the
patron's page for staff, a WAITING hold has a "Pickup branch" select of the library's branches with a Save; the
hold keeps its place. A hold whose copy is set aside offers none. The words are English and Russian."""

from __future__ import annotations

import httpx
import pytest
from browser_helpers import SeededBook, register, sign_in
from playwright.async_api import Page, expect

pytestmark = pytest.mark.e2e
LISTED = ["MAIN", "EAST", "WEST", "NORTH", "SHELFHERE", "SHELFTHERE", "PULLMAIN", "PULLEAST"]  # E2E_LIBRARY_BRANCHES


def _bearer(reader: dict) -> dict[str, str]:
    return {"authorization": f"Bearer {reader['access_token']}"}


async def _hold(rest: httpx.AsyncClient, reader: dict, book: SeededBook, branch: str) -> dict:
    wanted = {"patron": reader["name"], "book": book.name, "pickup_branch": branch}
    placed = await rest.post("/v1/holds", json=wanted, headers=_bearer(reader))
    assert placed.status_code == 200, placed.text
    hold: dict = placed.json()
    return hold


async def _queue(rest: httpx.AsyncClient, book: SeededBook, unique_email) -> tuple[dict, dict, dict]:
    """Two readers: the first's hold has the only copy set aside (IN_TRANSIT), the second's waits, first in line."""
    first = await register(rest, unique_email(), "Ivan Bunin")
    second = await register(rest, unique_email(), "Nina Berberova")
    set_aside = await _hold(rest, first, book, "MAIN")
    waiting = await _hold(rest, second, book, "MAIN")
    assert (set_aside["status"], waiting["status"]) == ("HOLD_STATUS_IN_TRANSIT", "HOLD_STATUS_WAITING")
    return first, second, waiting


async def test_a_reader_changes_the_pickup_branch_of_a_waiting_hold_on_their_account_page(
    new_context, page: Page, rest: httpx.AsyncClient, one_copy_book, unique_email
) -> None:
    first, second, waiting = await _queue(rest, one_copy_book, unique_email)
    await sign_in(page, second["email"], second["password"], next_hash="/account")
    pickup = page.get_by_label("Pickup branch", exact=True)
    await expect(pickup).to_have_value("MAIN")
    values = await pickup.locator("option").evaluate_all("(options) => options.map((option) => option.value)")
    assert values == LISTED  # the library's branches, as the hold form offers them
    await pickup.select_option("EAST")
    await page.get_by_role("button", name=f"Save the pickup branch of the hold on “{one_copy_book.title}”").click()
    await expect(
        page.get_by_text("The hold will be picked up at EAST; it keeps its place in the queue.")
    ).to_be_visible()
    held = (await rest.get(f"/v1/{waiting['name']}", headers=_bearer(second))).json()
    assert (held["pickup_branch"], held["status"], held["queue_position"]) == ("EAST", "HOLD_STATUS_WAITING", 1)

    # the first reader's hold has its copy on the way: no choice offered there
    other = await (await new_context()).new_page()
    await sign_in(other, first["email"], first["password"], next_hash="/account")
    await expect(other.get_by_test_id("holds").get_by_role("listitem")).to_have_count(1)
    await expect(other.get_by_text("A copy is being fetched for you.")).to_be_visible()
    await expect(other.get_by_test_id("hold-pickup")).to_have_count(0)


async def test_staff_change_a_patron_s_waiting_hold_on_the_patron_page_in_russian(
    page: Page, rest: httpx.AsyncClient, librarian, one_copy_book, unique_email
) -> None:
    _, second, waiting = await _queue(rest, one_copy_book, unique_email)
    await sign_in(page, librarian.email, librarian.password, next_hash=f"/patrons/{second['name'].split('/')[-1]}")
    await page.evaluate("localStorage.setItem('athenaeum.lang', 'ru')")
    await page.reload()
    form = page.get_by_test_id("hold-pickup")
    await expect(form).to_have_count(1)
    await expect(form.locator("label")).to_have_text("Где забрать")
    await form.locator("select").select_option("WEST")
    await form.get_by_role("button", name="Сохранить").click()
    await expect(
        page.get_by_text("Книгу можно будет забрать в филиале WEST; место в очереди сохранено.")
    ).to_be_visible()
    held = (await rest.get(f"/v1/{waiting['name']}", headers=librarian.headers)).json()
    assert (held["pickup_branch"], held["queue_position"]) == ("WEST", 1)
