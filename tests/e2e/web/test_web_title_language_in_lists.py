"""A book's title is marked with its own language wherever a list prints it, as the book page and the catalogue
do (a screen reader reads a Russian title with a Russian voice, the English page around it with an English one):
the reader's loans, holds and fines, and the desk's lists of a patron's loans and holds and the pull list."""

from __future__ import annotations

import uuid

import httpx
import pytest
from browser_helpers import register, sign_in
from playwright.async_api import Page, expect

pytestmark = pytest.mark.e2e


async def _russian_book(rest: httpx.AsyncClient, staff, title: str) -> tuple[str, str]:
    """A Russian book of its own with one copy at MAIN; its name and the copy's barcode."""
    made = await rest.post("/v1/books", json={"title": title, "language": "ru"}, headers=staff.headers)
    assert made.status_code == 200, made.text
    barcode = f"37{uuid.uuid4().int % 10**10:010d}"
    copy = {"barcode": barcode, "branch": "MAIN"}
    added = await rest.post(f"/v1/{made.json()['name']}/copies", json=copy, headers=staff.headers)
    assert added.status_code == 200, added.text
    return made.json()["name"], barcode


async def _lend(rest: httpx.AsyncClient, staff, patron: dict, barcode: str) -> dict:
    issued = await rest.post(
        "/v1/loans:issue", json={"patron": patron["name"], "barcode": barcode}, headers=staff.headers
    )
    assert issued.status_code == 200, issued.text
    loan: dict = issued.json()
    assert loan["book_language"] == "ru"  # kept with the title, as the lists need it
    return loan


async def test_titles_in_the_reader_s_and_the_desk_s_lists_are_marked_with_their_language(
    page: Page, new_context, rest: httpx.AsyncClient, librarian, unique_email
) -> None:
    tag = uuid.uuid4().hex[:6]
    reader = await register(rest, unique_email(), f"Vera Panova {tag}")
    titles = {"lent": f"Тихий Дон {tag}", "lost": f"Белая гвардия {tag}", "held": f"Вишнёвый сад {tag}"}
    _, lent = await _russian_book(rest, librarian, titles["lent"])
    _, lost = await _russian_book(rest, librarian, titles["lost"])
    held, _ = await _russian_book(rest, librarian, titles["held"])
    await _lend(rest, librarian, reader, lent)
    gone = await _lend(rest, librarian, reader, lost)
    wanted = {"patron": reader["name"], "book": held, "pickup_branch": "MAIN"}
    hold = await rest.post("/v1/holds", json=wanted, headers={"authorization": f"Bearer {reader['access_token']}"})
    assert hold.status_code == 200, hold.text
    body = {"amount": "5.00", "reason": "not returned"}  # a LOST_ITEM fine, whose text names the title
    assert (await rest.post(f"/v1/{gone['name']}:declareLost", json=body, headers=librarian.headers)).status_code == 200

    await sign_in(page, reader["email"], reader["password"])
    await expect(page.locator("html")).to_have_attribute("lang", "en")
    loans = page.get_by_test_id("loans")
    await expect(loans.get_by_role("link", name=titles["lent"])).to_have_attribute("lang", "ru")
    holds = page.get_by_test_id("holds")
    await expect(holds.get_by_role("heading", name=titles["held"])).to_have_attribute("lang", "ru")
    fines = page.get_by_test_id("fines")
    await expect(fines.get_by_text(titles["lost"], exact=True)).to_have_attribute("lang", "ru")  # the title only
    await expect(fines).to_contain_text(f"Lost book: “{titles['lost']}” ({lost})")

    staff = await (await new_context()).new_page()
    await sign_in(staff, librarian.email, librarian.password, next_hash=f"/patrons/{reader['name'].split('/')[-1]}")
    desk_loans = staff.get_by_test_id("patron-loans")
    await expect(desk_loans.get_by_role("cell", name=titles["lent"], exact=True)).to_have_attribute("lang", "ru")
    await expect(staff.get_by_role("link", name=titles["held"], exact=True)).to_have_attribute("lang", "ru")
    await staff.goto("/#/pulllist")
    await staff.get_by_label("Branch", exact=True).select_option(label="All branches")
    row = staff.get_by_test_id("pulllist").locator(f'tr[data-hold="{hold.json()["name"]}"]')
    await expect(row.get_by_role("link", name=titles["held"])).to_be_visible()
    await expect(row.locator('td[lang="ru"]')).to_have_text(titles["held"])
