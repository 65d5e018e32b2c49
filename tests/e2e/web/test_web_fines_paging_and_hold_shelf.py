"""Staff lists that come a page at a time show how many of how many and reach the rest (F19: the Fines page
showed the newest 100 fines and a total over all of them, so an old large debt could not be found), and the
hold shelf lists every copy put aside, soonest deadline first, those past it flagged (F16)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import sqlalchemy as sa
from browser_helpers import PHONE, receive_hold_copy, register, sign_in
from playwright.async_api import Page, expect
from sqlalchemy.ext.asyncio import create_async_engine

pytestmark = pytest.mark.e2e


async def _fine(rest: httpx.AsyncClient, staff, patron: dict, amount: str, description: str) -> None:
    fine = {"patron": patron["name"], "amount": amount, "kind": "FINE_KIND_OTHER", "description": description}
    assessed = await rest.post("/v1/fines", json=fine, headers=staff.headers)
    assert assessed.status_code == 200, assessed.text


async def test_the_fines_page_reaches_an_old_large_fine_behind_a_hundred_newer_ones(
    page: Page, rest: httpx.AsyncClient, librarian, unique_email
) -> None:
    tag = uuid.uuid4().hex[:8]
    debtor = await register(rest, unique_email(), f"Old Debtor {tag}")
    await _fine(rest, librarian, debtor, "250.00", f"Lost atlas {tag}")
    copier = await register(rest, unique_email(), f"Copier {tag}")
    for n in range(101):
        await _fine(rest, librarian, copier, "0.01", f"photocopy {tag} {n}")
    query = {"status": "FINE_STATUS_OUTSTANDING", "page_size": 1}
    total = (await rest.get("/v1/fines", params=query, headers=librarian.headers)).json()["total_size"]
    assert total >= 102

    await sign_in(page, librarian.email, librarian.password, next_hash="/fines")
    table = page.locator("table.stacks tbody")
    await expect(table.get_by_role("row")).to_have_count(100)
    await expect(page.get_by_test_id("paged-count")).to_have_text(f"Showing 100 of {total:,}.")
    await expect(page.get_by_test_id("fines-shown-sum")).to_be_visible()  # the total counts rows not shown
    await expect(page.get_by_text(f"Lost atlas {tag}")).to_have_count(0)

    await page.get_by_role("button", name="Show all").click()
    await expect(page.get_by_test_id("paged-count")).to_have_text(f"Showing {total:,} of {total:,}.")
    await expect(table.get_by_role("row")).to_have_count(total)
    await expect(page.get_by_role("row").filter(has_text=f"Lost atlas {tag}")).to_contain_text("250.00")
    await expect(page.get_by_test_id("fines-shown-sum")).to_have_count(0)

    # One patron's fines, by card number: the old debt alone, and the total is its amount.
    await page.get_by_label("Patron (card number or e-mail)").fill(debtor["card_number"])
    await page.get_by_role("button", name="Search").click()
    await expect(page.get_by_role("link", name=f"Old Debtor {tag}")).to_be_visible()
    await expect(page.get_by_test_id("paged-count")).to_have_text("Showing 1 of 1.")
    await expect(page.get_by_test_id("fines-total")).to_contain_text("250.00")

    # By e-mail, 101 fines: a page, then Show more reaches the last one.
    await page.get_by_label("Patron (card number or e-mail)").fill(copier["email"])
    await page.get_by_role("button", name="Search").click()
    await expect(page.get_by_test_id("paged-count")).to_have_text("Showing 100 of 101.")
    await expect(page.get_by_test_id("fines-total")).to_contain_text("1.01")
    await page.get_by_role("button", name="Show more").click()
    await expect(page.get_by_test_id("paged-count")).to_have_text("Showing 101 of 101.")
    await expect(page.get_by_text(f"photocopy {tag} 0", exact=True)).to_be_visible()

    # Paid fines of the debtor: none yet; after paying at the desk, the paid one shows without pay buttons.
    oldest = page.get_by_text(f"photocopy {tag} 0", exact=True)
    row = page.get_by_role("row").filter(has=oldest)
    await row.get_by_role("button", name="Pay").click()
    await expect(page.get_by_test_id("paged-count")).to_have_text("Showing 100 of 100.")
    await page.get_by_label("Status", exact=True).select_option(label="Paid fines")
    await page.get_by_role("button", name="Search").click()
    paid = page.get_by_role("row").filter(has=oldest)
    await expect(paid).to_contain_text("paid")
    await expect(paid.get_by_role("button", name="Pay")).to_have_count(0)
    await expect(page.get_by_test_id("paged-count")).to_have_text("Showing 1 of 1.")


async def _book_with_a_copy(rest: httpx.AsyncClient, staff, title: str) -> str:
    """A book record of its own with one copy (a hold on it is IN_TRANSIT at once: the copy on the pull list)."""
    made = await rest.post(
        "/v1/books", json={"title": title, "authors": ["Ivan Bunin"], "language": "ru"}, headers=staff.headers
    )
    assert made.status_code == 200, made.text
    barcode = f"37{uuid.uuid4().int % 10**10:010d}"
    copy = {"barcode": barcode, "branch": "main", "shelf_location": "B1"}
    added = await rest.post(f"/v1/{made.json()['name']}/copies", json=copy, headers=staff.headers)
    assert added.status_code == 200, added.text
    return made.json()["name"]


async def _ready_hold(rest: httpx.AsyncClient, patron: dict, book: str, staff) -> str:
    held = await rest.post(
        "/v1/holds",
        json={"patron": patron["name"], "book": book},
        headers={"authorization": f"Bearer {patron['access_token']}"},
    )
    assert held.status_code == 200 and held.json()["status"] == "HOLD_STATUS_IN_TRANSIT", held.text
    await receive_hold_copy(rest, staff, held.json()["name"])  # pulled and brought to the hold shelf
    return held.json()["name"]


async def _move_deadline(mesh, hold: str, deadline: datetime) -> None:
    """Puts a READY hold's pickup deadline at `deadline` (in the future: the scheduler leaves it READY)."""
    engine = create_async_engine(mesh.database_url("loans"))
    try:
        async with engine.begin() as connection:
            await connection.execute(
                sa.text("UPDATE holds SET expire_at = :at WHERE id = :id"), {"at": deadline, "id": hold.split("/")[-1]}
            )
    finally:
        await engine.dispose()


async def _named_by_loans(rest: httpx.AsyncClient, staff, patron: str, hold: str) -> None:
    """Waits until loans' lists name the hold's reader: loans learns a new account's name from the users' events,
    which on a loaded machine may come after the hold (the shelf then says "open the patron" until it reloads)."""
    deadline = asyncio.get_running_loop().time() + 30
    while True:
        listed = (await rest.get(f"/v1/{patron}/holds", headers=staff.headers)).json().get("holds", [])
        if any(h["name"] == hold and h.get("patron_display_name") for h in listed):
            return
        assert asyncio.get_running_loop().time() < deadline, f"loans never learnt the name of {hold}'s reader"
        await asyncio.sleep(0.2)


@pytest.mark.parametrize("language", ["en", "ru"])
async def test_the_hold_shelf_lists_ready_holds_soonest_deadline_first_and_flags_the_late_ones(
    new_context, rest: httpx.AsyncClient, mesh, librarian, unique_email, language: str
) -> None:
    tag = uuid.uuid4().hex[:6]
    first = await register(rest, unique_email(), f"Anna Akhmatova {tag}")
    second = await register(rest, unique_email(), f"Marina Tsvetaeva {tag}")
    later_title, sooner_title = f"Dark Avenues {tag}", f"The Gentleman from San Francisco {tag}"
    placed_first = await _ready_hold(rest, first, await _book_with_a_copy(rest, librarian, later_title), librarian)
    placed_second = await _ready_hold(rest, second, await _book_with_a_copy(rest, librarian, sooner_title), librarian)
    soon = datetime.now(UTC) + timedelta(days=1)
    await _move_deadline(mesh, placed_first, soon + timedelta(days=4))
    await _move_deadline(mesh, placed_second, soon)
    copy = (await rest.get("/v1/holds/" + placed_second.split("/")[-1], headers=librarian.headers)).json()["copy"]
    barcode = (await rest.get(f"/v1/{copy}")).json()["barcode"]
    for reader, hold in ((first, placed_first), (second, placed_second)):
        await _named_by_loans(rest, librarian, reader["name"], hold)

    page = await (await new_context(viewport=PHONE)).new_page()
    await sign_in(page, librarian.email, librarian.password, next_hash="/holdshelf")
    if language == "ru":
        await page.get_by_role("button", name="RU").click()
        await expect(page.locator("html")).to_have_attribute("lang", "ru")
    heading = "Полка броней" if language == "ru" else "Hold shelf"
    await expect(page.get_by_role("heading", level=1)).to_have_text(heading)
    shelf = page.get_by_test_id("holdshelf")
    due_soon = shelf.locator(f'tr[data-hold="{placed_second}"]')
    await expect(due_soon).to_contain_text(f"Marina Tsvetaeva {tag}")
    await expect(due_soon).to_contain_text(second["card_number"])
    await expect(due_soon).to_contain_text(barcode)
    await expect(due_soon.get_by_role("link", name=sooner_title)).to_be_visible()
    await expect(shelf.locator(f'tr[data-hold="{placed_first}"]')).to_contain_text(f"Anna Akhmatova {tag}")
    order = await shelf.locator("tr[data-hold]").evaluate_all("(rows) => rows.map((row) => row.dataset.hold)")
    assert order.index(placed_second) < order.index(placed_first)
    assert await page.evaluate("() => document.documentElement.scrollWidth - innerWidth") <= 0

    # Two days on (the page's clock): the sooner deadline has passed and the row says so; the later has not.
    await page.clock.set_fixed_time(soon + timedelta(days=1))
    await page.get_by_role("button", name="EN" if language == "ru" else "RU").click()
    await page.get_by_role("button", name=language.upper()).click()
    late = "срок истёк" if language == "ru" else "past the deadline"
    await expect(due_soon).to_contain_text(late)
    await expect(due_soon).to_have_class("is-overdue")
    await expect(shelf.locator(f'tr[data-hold="{placed_first}"]')).not_to_contain_text(late)
    await expect(page.get_by_test_id("holdshelf-late")).to_be_visible()


async def test_the_users_page_reaches_every_account_past_the_first_hundred(
    page: Page, rest: httpx.AsyncClient, admin, librarian
) -> None:
    """The admin's Users page fetched 100 accounts and said nothing of the others."""
    total = (await rest.get("/v1/users", params={"page_size": 1}, headers=admin.headers)).json()["total_size"]
    tag = uuid.uuid4().hex[:8]
    for n in range(max(0, 101 - total)):
        user = {"email": f"many-{tag}-{n}@example.org", "display_name": f"Many {tag} {n}"}
        made = await rest.post("/v1/users", json={"user": user}, headers=librarian.headers)
        assert made.status_code == 200, made.text
    total = (await rest.get("/v1/users", params={"page_size": 1}, headers=admin.headers)).json()["total_size"]

    await sign_in(page, admin.email, admin.password, next_hash="/users")
    rows = page.locator("table.stacks tbody tr")
    await expect(rows).to_have_count(100)
    await expect(page.get_by_test_id("paged-count")).to_have_text(f"Showing 100 of {total:,}.")
    await page.get_by_role("button", name="Show all").click()
    await expect(rows).to_have_count(total)
    await expect(page.get_by_test_id("paged-count")).to_have_text(f"Showing {total:,} of {total:,}.")
