"""A double click (or a double tap on a phone) is one intent: the button is busy while its call runs, and a
retry of the same intent carries the same request_id, so the server acts once."""

from __future__ import annotations

import json
import uuid

import httpx
import pytest
from browser_helpers import PHONE, register, sign_in
from playwright.async_api import Page, Request, Route, expect

pytestmark = pytest.mark.e2e


def calls_to(page: Page, fragment: str) -> list[Request]:
    """The requests the page sends whose URL contains `fragment`, as they go out."""
    seen: list[Request] = []
    page.on("request", lambda request: seen.append(request) if fragment in request.url else None)
    return seen


async def assess_fine(rest: httpx.AsyncClient, librarian, patron: dict, amount: str, description: str) -> dict:
    fine = {"patron": patron["name"], "amount": amount, "kind": "FINE_KIND_DAMAGED_ITEM", "description": description}
    response = await rest.post("/v1/fines", json=fine, headers=librarian.headers)
    assert response.status_code == 200, response.text
    return response.json()


async def test_a_double_click_on_pay_records_one_payment(
    page: Page, rest: httpx.AsyncClient, librarian, unique_email
) -> None:
    patron = await register(rest, unique_email(), "Nikolai Leskov")
    fine = await assess_fine(rest, librarian, patron, "5.50", "Torn cover")
    payments = calls_to(page, ":pay")
    await sign_in(page, librarian.email, librarian.password, next_hash=f"/patrons/{patron['name'].split('/')[-1]}")
    row = page.get_by_role("row").filter(has_text="Torn cover")
    await row.get_by_label("Amount paid").fill("2.00")

    await row.get_by_role("button", name="Pay").dblclick()

    await expect(page.get_by_text("Payment recorded.")).to_be_visible()
    await expect(row.get_by_label("Amount paid")).to_have_value("3.50")  # the row starts from what is owed now
    await page.wait_for_timeout(500)
    assert len(payments) == 1
    settled = (await rest.get(f"/v1/{fine['name']}", headers=librarian.headers)).json()
    assert (settled["paid_amount"], settled["outstanding_amount"]) == ("2.00", "3.50")


async def test_a_payment_whose_answer_was_lost_is_retried_with_the_same_request_id(
    page: Page, rest: httpx.AsyncClient, librarian, unique_email
) -> None:
    patron = await register(rest, unique_email(), "Ivan Bunin")
    fine = await assess_fine(rest, librarian, patron, "4.00", "Wet pages")
    payments = calls_to(page, ":pay")

    async def answer_lost(route: Route) -> None:  # the payment is made, but the answer never reaches the page
        await route.fetch()
        await route.fulfill(status=503, json={"code": 14, "message": "upstream reset", "details": []})

    await page.route("**/*:pay", answer_lost, times=1)
    await sign_in(page, librarian.email, librarian.password, next_hash=f"/patrons/{patron['name'].split('/')[-1]}")
    row = page.get_by_role("row").filter(has_text="Wet pages")
    await row.get_by_label("Amount paid").fill("1.00")
    await row.get_by_role("button", name="Pay").click()
    await expect(row.get_by_text("busy or restarting")).to_be_visible()

    await row.get_by_role("button", name="Pay").click()  # the librarian tries again

    await expect(page.get_by_text("Payment recorded.")).to_be_visible()
    first, second = (json.loads(request.post_data or "{}")["request_id"] for request in payments)
    assert first == second
    settled = (await rest.get(f"/v1/{fine['name']}", headers=librarian.headers)).json()
    assert settled["paid_amount"] == "1.00", "one payment of 1.00, not two"


async def test_a_double_tap_on_renew_uses_one_renewal(
    new_context, rest: httpx.AsyncClient, librarian, one_copy_book, unique_email
) -> None:
    patron = await register(rest, unique_email(), "Ivan Turgenev")
    issued = await rest.post(
        "/v1/loans:issue",
        json={"patron": patron["name"], "barcode": one_copy_book.barcodes[0]},
        headers=librarian.headers,
    )
    assert issued.status_code == 200, issued.text
    page = await (await new_context(viewport=PHONE)).new_page()
    renewals = calls_to(page, ":renew")
    await sign_in(page, patron["email"], patron["password"])
    loans = page.get_by_test_id("loans")
    await expect(loans).to_contain_text("0 / ")

    await loans.get_by_role("button", name="Renew").dblclick()

    await expect(page.get_by_test_id("renew-result")).to_contain_text("is now due by")
    await expect(loans).to_contain_text("1 / ")
    await page.wait_for_timeout(500)
    assert len(renewals) == 1
    loan = (await rest.get(f"/v1/{issued.json()['name']}", headers=librarian.headers)).json()
    assert loan["renewal_count"] == 1


async def test_a_double_click_on_create_makes_one_book_and_on_add_one_copy(
    page: Page, rest: httpx.AsyncClient, librarian
) -> None:
    title = f"Doubled Zebra {uuid.uuid4().hex[:8]}"
    barcode = f"37{uuid.uuid4().int % 10**10:010d}"
    await sign_in(page, librarian.email, librarian.password, next_hash="/books-new")
    await page.get_by_label("Title", exact=True).fill(title)
    await page.get_by_label("Authors").fill("Yevgeny Zamyatin")

    await page.get_by_role("button", name="Add the book").dblclick()

    await expect(page.get_by_role("heading", level=1)).to_have_text(f"Copies of “{title}”")
    await page.get_by_label("Barcode").fill(barcode)
    await page.get_by_role("button", name="Add the copy").dblclick()
    await expect(page.get_by_role("listitem").filter(has_text=barcode)).to_be_visible()
    await page.wait_for_timeout(500)
    await expect(page.get_by_role("alert")).to_have_count(0)  # no "Another copy already has this barcode."
    found = (await rest.get("/v1/books:search", params={"query": title}, headers=librarian.headers)).json()
    assert [r["book"]["title"] for r in found.get("results", []) if r["book"]["title"] == title] == [title]


async def test_a_double_click_on_save_preferences_saves_once_without_a_false_conflict(
    page: Page, rest: httpx.AsyncClient, unique_email
) -> None:
    patron = await register(rest, unique_email(), "Anton Delvig")
    saves = calls_to(page, f"/v1/{patron['name']}?")
    await sign_in(page, patron["email"], patron["password"])
    await page.get_by_label("Email me about due dates and holds").click()

    await page.get_by_role("button", name="Save").dblclick()

    await expect(page.get_by_text("Saved.", exact=True)).to_be_visible()
    await page.wait_for_timeout(500)
    await expect(page.get_by_text("Someone changed this at the same time")).to_have_count(0)
    preferences = [r for r in saves if r.method == "PATCH" and "notification_preferences" in r.url]
    assert len(preferences) == 1
