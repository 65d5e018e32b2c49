"""A renewal's result is shown at the loan tapped and said through the app's live lines; the card shows the
renewed loan at once; and a second tap while the list reloads renews nothing (finding P8: on a phone the result
stood ~600 px above the card, which kept its old due date with a live Renew for half a second, and a second
tap ~560 ms later used the second renewal too)."""

from __future__ import annotations

import asyncio
import uuid

import httpx
import pytest
from browser_helpers import PHONE, lend, new_book, register, sign_in
from playwright.async_api import Request, Route, expect

pytestmark = pytest.mark.e2e


async def test_a_refused_renewal_is_said_in_the_card_of_the_loan_tapped(
    new_context, rest: httpx.AsyncClient, librarian, unique_email
) -> None:
    tag = uuid.uuid4().hex[:6]
    patron = await register(rest, unique_email(), "Yelena Guro")
    waited_for, waited_barcode = await new_book(rest, librarian, f"Waited For {tag}")
    for index in range(3):  # loans above it: on a phone its card is far below the top of the list
        await lend(rest, librarian, patron, (await new_book(rest, librarian, f"Other {index} {tag}"))[1])
    await lend(rest, librarian, patron, waited_barcode)
    other = await register(rest, unique_email(), "Nadezhda Teffi")
    held = await rest.post(
        "/v1/holds",
        json={"patron": other["name"], "book": waited_for},
        headers={"authorization": f"Bearer {other['access_token']}"},
    )
    assert held.status_code == 200, held.text
    page = await (await new_context(viewport=PHONE)).new_page()
    await sign_in(page, patron["email"], patron["password"])
    card = page.get_by_test_id("loans").get_by_role("row").filter(has_text=f"Waited For {tag}")

    await card.get_by_role("button", name="Renew").click()

    result = card.get_by_test_id("renew-result")
    await expect(result).to_contain_text("Not renewed.")
    await expect(result).to_contain_text("Other readers are waiting for this book")
    await expect(result).to_be_in_viewport()
    await expect(page.get_by_test_id("announce-alert")).to_contain_text("Other readers are waiting for this book")
    await expect(page.get_by_test_id("renew-result")).to_have_count(1)  # nowhere else


async def test_a_second_tap_while_the_list_reloads_renews_nothing_and_the_card_shows_the_renewal_at_once(
    new_context, rest: httpx.AsyncClient, librarian, one_copy_book, unique_email
) -> None:
    patron = await register(rest, unique_email(), "Marina Tsvetaeva")
    loan = await lend(rest, librarian, patron, one_copy_book.barcodes[0])
    page = await (await new_context(viewport=PHONE)).new_page()
    renewals: list[Request] = []
    page.on("request", lambda request: renewals.append(request) if ":renew" in request.url else None)
    await sign_in(page, patron["email"], patron["password"])
    card = page.get_by_test_id("loans").get_by_role("row").filter(has_text=one_copy_book.title)
    await expect(card).to_contain_text("0 / ")
    released = asyncio.Event()

    async def slow_link(route: Route) -> None:  # the list's reload after the renewal is slow to come
        await released.wait()
        await route.continue_()

    await page.route("**/loans?*LOAN_STATUS_ACTIVE*", slow_link)
    renew = card.get_by_role("button", name=f"Renew {one_copy_book.title}")

    await renew.click()
    await expect(page.locator(".notice").filter(has_text="is now due by")).to_be_visible()
    card_before_the_reload = await card.inner_text()
    await renew.click(force=True)  # the second tap of a nervous thumb (force: tapped, busy or not)

    await page.wait_for_timeout(300)
    released.set()
    await expect(card).not_to_contain_text("0 / ")
    await expect(renew).not_to_have_attribute("aria-disabled", "true")
    await page.wait_for_timeout(300)
    assert len(renewals) == 1, "a second tap while the card was being redrawn renewed again"
    await expect(card).to_contain_text("1 / ")
    renewed = (await rest.get(f"/v1/{loan['name']}", headers=librarian.headers)).json()
    assert renewed["renewal_count"] == 1
    # The card showed the renewal from its answer, the list's reload still on its way, and said it under Renew.
    assert "1 / " in card_before_the_reload and "is now due by" in card_before_the_reload, card_before_the_reload
    await expect(page.get_by_test_id("announce-status")).to_contain_text("is now due by")
