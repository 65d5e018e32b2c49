"""The request_id a desk keeps for a scan whose answer was lost stands only for the immediate retry of that scan:
a later, new issue or return of the copy is a call of its own, and an answer the server kept for the earlier
scan is said as that scan's, never as what was done now. A desk taken over by another librarian is theirs at
once."""

from __future__ import annotations

import json

import httpx
import pytest
from browser_helpers import register, scan, sign_in
from playwright.async_api import Page, Route, expect

pytestmark = pytest.mark.e2e


def _answer_lost(request_ids: list[str]):
    async def lost(route: Route) -> None:
        request_ids.append(json.loads(route.request.post_data or "{}")["request_id"])
        await route.fetch()  # the server does it...
        await route.abort("connectionreset")  # ...and its answer never arrives

    return lost


async def _active_loans(rest: httpx.AsyncClient, borrower: dict) -> list[dict]:
    answer = await rest.get(
        f"/v1/{borrower['name']}/loans",
        params={"status": "LOAN_STATUS_ACTIVE"},
        headers={"authorization": f"Bearer {borrower['access_token']}"},
    )
    loans: list[dict] = answer.json().get("loans", [])
    return loans


async def test_a_new_issue_of_a_copy_after_its_return_is_a_new_loan_not_the_lost_answer_replayed(
    page: Page, rest: httpx.AsyncClient, one_copy_book, librarian, unique_email
) -> None:
    """The lost issue's id was kept until that same scan got an answer: the next issue of the copy to the patron
    replayed it, "Issued" on screen, and no loan was made."""
    borrower = await register(rest, unique_email(), "Isaac Babel")
    barcode = one_copy_book.barcodes[0]
    request_ids: list[str] = []
    await sign_in(page, librarian.email, librarian.password)
    await scan(page, "desk-card", borrower["card_number"])
    await expect(page.get_by_test_id("desk-patron")).to_contain_text("Isaac Babel")
    await page.route("**/v1/loans:issue", _answer_lost(request_ids))
    await scan(page, "desk-barcode", barcode)
    log = page.get_by_test_id("desk-log")
    await expect(log.locator("li").first).to_contain_text("no answer, so the loan may have been made")
    await page.unroute("**/v1/loans:issue")

    await page.get_by_role("button", name="Return").click()
    await scan(page, "desk-barcode", barcode)
    await expect(log.locator("li").first).to_contain_text(f"Returned “{one_copy_book.title}” ({barcode})")
    await page.get_by_role("button", name="Issue").click()
    async with page.expect_request("**/v1/loans:issue") as again:
        await scan(page, "desk-barcode", barcode)
    request_ids.append(json.loads((await again.value).post_data or "{}")["request_id"])
    await expect(log.locator("li").first).to_contain_text(f"Issued “{one_copy_book.title}” ({barcode})")
    await expect(log.locator("li").first).not_to_contain_text("answer to the scan at")
    assert request_ids[0] != request_ids[1]
    assert len(await _active_loans(rest, borrower)) == 1


async def test_a_rescan_answered_with_a_loan_returned_since_says_nothing_was_issued_now(
    page: Page, rest: httpx.AsyncClient, one_copy_book, librarian, unique_email
) -> None:
    """The server answers a reused id with the loan the first call made: returned since at another desk, the desk
    said "Issued" for a loan that was no longer out."""
    borrower = await register(rest, unique_email(), "Andrei Bitov")
    barcode = one_copy_book.barcodes[0]
    await sign_in(page, librarian.email, librarian.password)
    await scan(page, "desk-card", borrower["card_number"])
    await expect(page.get_by_test_id("desk-patron")).to_contain_text("Andrei Bitov")
    await page.route("**/v1/loans:issue", _answer_lost([]))
    await scan(page, "desk-barcode", barcode)
    log = page.get_by_test_id("desk-log")
    await expect(log.locator("li").first).to_contain_text("no answer, so the loan may have been made")
    await page.unroute("**/v1/loans:issue")
    returned = await rest.post("/v1/loans:return", json={"barcode": barcode}, headers=librarian.headers)
    assert returned.status_code == 200, returned.text  # at another desk

    await scan(page, "desk-barcode", barcode)
    await expect(log.locator("li").first).to_contain_text("is no longer out to this patron, so nothing was issued now")
    assert await _active_loans(rest, borrower) == []
    await scan(page, "desk-barcode", barcode)
    await expect(log.locator("li").first).to_contain_text(f"Issued “{one_copy_book.title}” ({barcode})")
    assert len(await _active_loans(rest, borrower)) == 1


async def test_a_return_after_the_copy_was_lent_again_closes_the_new_loan_not_the_lost_answer_replayed(
    page: Page, rest: httpx.AsyncClient, one_copy_book, librarian, unique_email
) -> None:
    """A lost return's id, kept, made the next return of the copy say "Returned" while its new loan stayed out.
    Rescanned at once the earlier answer is said as the earlier scan's; minutes later the id is not reused."""
    borrower = await register(rest, unique_email(), "Yury Olesha")
    barcode = one_copy_book.barcodes[0]
    await sign_in(page, librarian.email, librarian.password)
    await scan(page, "desk-card", borrower["card_number"])
    log = page.get_by_test_id("desk-log")
    await scan(page, "desk-barcode", barcode)
    await expect(log.locator("li.ok")).to_contain_text("Issued")
    await page.get_by_role("button", name="Return").click()
    await page.route("**/v1/loans:return", _answer_lost([]))
    await scan(page, "desk-barcode", barcode)
    await expect(log.locator("li").first).to_contain_text("no answer, so the return may have been recorded")
    await page.unroute("**/v1/loans:return")

    async def lend_again() -> None:
        body = {"patron": borrower["name"], "barcode": barcode}
        issued = await rest.post("/v1/loans:issue", json=body, headers=librarian.headers)
        assert issued.status_code == 200, issued.text

    await lend_again()  # at another desk, before the rescan
    await scan(page, "desk-barcode", barcode)
    await expect(log.locator("li").first).to_contain_text("the copy has been lent again since")
    assert len(await _active_loans(rest, borrower)) == 1
    await scan(page, "desk-barcode", barcode)  # the librarian does as told
    await expect(log.locator("li").first).to_have_text(f"Returned “{one_copy_book.title}” ({barcode}).")
    assert await _active_loans(rest, borrower) == []

    await lend_again()
    await page.route("**/v1/loans:return", _answer_lost([]))
    await scan(page, "desk-barcode", barcode)
    await expect(log.locator("li").first).to_contain_text("no answer, so the return may have been recorded")
    await page.unroute("**/v1/loans:return")
    await lend_again()  # hours later it is out again (an hour ago, as the desk's kept id tells it)
    await page.evaluate(
        """() => {
          const desk = JSON.parse(sessionStorage.getItem('athenaeum.desk'));
          for (const entry of Object.values(desk.pending)) entry.at -= 3600000;
          sessionStorage.setItem('athenaeum.desk', JSON.stringify(desk));
        }"""
    )
    await page.reload()
    await expect(page.get_by_role("heading", name="Circulation desk")).to_be_visible()
    await scan(page, "desk-barcode", barcode)
    await expect(log.locator("li").first).to_have_text(f"Returned “{one_copy_book.title}” ({barcode}).")
    assert await _active_loans(rest, borrower) == []


async def test_a_desk_whose_session_became_another_librarians_is_emptied_at_once(
    page: Page, rest: httpx.AsyncClient, admin, librarian, unique_email
) -> None:
    """Signing in as another librarian in one tab left a desk open in another tab with the first one's patron,
    log and kept request_ids (the next scans issued to that patron) until a reload."""
    borrower = await register(rest, unique_email(), "Mikhail Zoshchenko")
    await sign_in(page, librarian.email, librarian.password)
    desk = await page.context.new_page()
    await desk.goto("/#/desk")
    await scan(desk, "desk-card", borrower["card_number"])
    await expect(desk.get_by_test_id("desk-patron")).to_contain_text("Mikhail Zoshchenko")
    await scan(desk, "desk-barcode", "NOSUCH-DK3")
    await expect(desk.get_by_test_id("desk-log").locator("li.refused")).to_have_count(1)

    await sign_in(page, admin.email, admin.password)  # another librarian, on the first tab
    await expect(desk.get_by_test_id("desk-patron")).to_have_count(0)
    await expect(desk.get_by_test_id("desk-log").locator("li")).to_have_count(0)
    await expect(desk.locator("#desk-card")).to_be_visible()
    owner = await desk.evaluate("() => JSON.parse(sessionStorage.getItem('athenaeum.desk')).owner")
    assert owner == admin.name
