"""A reader whose lost book was found after they had paid part of its charge reads on their own account page
what is owed back to them, in both languages (finding NF2: it said "waived" and nothing of the money)."""

from __future__ import annotations

import httpx
import pytest
from browser_helpers import register, sign_in
from playwright.async_api import expect

pytestmark = pytest.mark.e2e


async def _lost_part_paid_and_found(rest: httpx.AsyncClient, staff, patron: dict, barcode: str) -> None:
    issued = await rest.post(
        "/v1/loans:issue", json={"patron": patron["name"], "barcode": barcode}, headers=staff.headers
    )
    assert issued.status_code == 200, issued.text
    lost = await rest.post(
        f"/v1/{issued.json()['name']}:declareLost",
        json={"amount": "25.00", "reason": "not returned"},
        headers=staff.headers,
    )
    assert lost.status_code == 200, lost.text
    fines = (await rest.get(f"/v1/{patron['name']}/fines", headers=staff.headers)).json()["fines"]
    (charge,) = [fine for fine in fines if fine["kind"] == "FINE_KIND_LOST_ITEM"]
    for amount in ("5.00", "3.00"):
        paid = await rest.post(
            f"/v1/{charge['name']}:pay", json={"amount": amount, "payment_method": "cash"}, headers=staff.headers
        )
        assert paid.status_code == 200, paid.text
    found = await rest.post("/v1/loans:return", json={"barcode": barcode}, headers=staff.headers)
    assert found.status_code == 200 and found.json()["refund_amount"] == "8.00", found.text


async def test_the_reader_sees_the_refund_owed_for_a_found_book_in_both_languages(
    new_context, rest: httpx.AsyncClient, librarian, one_copy_book, unique_email
) -> None:
    patron = await register(rest, unique_email(), "Zinaida Gippius")
    await _lost_part_paid_and_found(rest, librarian, patron, one_copy_book.barcodes[0])

    page = await (await new_context(locale="en-US")).new_page()
    await sign_in(page, patron["email"], patron["password"], next_hash="/account")
    fines = page.get_by_test_id("fines")
    await expect(fines).to_contain_text("waived")
    await expect(fines).to_contain_text("the book was found: the")
    await expect(fines).to_contain_text("8.00 you paid is owed back to you")

    await page.get_by_role("button", name="RU").click()
    await expect(fines).to_contain_text("книга нашлась: уплаченные вами")
    await expect(fines).to_contain_text("8,00")
