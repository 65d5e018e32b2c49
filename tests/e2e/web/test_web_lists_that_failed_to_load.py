"""A list that could not be loaded says so, with Try again, and loads by itself once the browser is online
again (finding P7: *My account* opened on a dropped link said "You have no books on loan" beside "server cannot
be reached", offered no way to try again, and stayed so after the connection came back)."""

from __future__ import annotations

import httpx
import pytest
from browser_helpers import PHONE, register, sign_in
from playwright.async_api import Page, Route, expect

pytestmark = pytest.mark.e2e

ACTIVE_LOANS = "**/loans?*LOAN_STATUS_ACTIVE*"


async def _reader_with_a_loan(rest: httpx.AsyncClient, librarian, book, unique_email, name: str) -> dict:
    patron = await register(rest, unique_email(), name)
    issued = await rest.post(
        "/v1/loans:issue", json={"patron": patron["name"], "barcode": book.barcodes[0]}, headers=librarian.headers
    )
    assert issued.status_code == 200, issued.text
    return patron


async def _phone(new_context) -> Page:
    return await (await new_context(viewport=PHONE)).new_page()


async def test_my_account_opened_offline_says_the_loans_could_not_be_loaded_and_loads_them_once_online(
    new_context, rest: httpx.AsyncClient, librarian, one_copy_book, unique_email
) -> None:
    patron = await _reader_with_a_loan(rest, librarian, one_copy_book, unique_email, "Lidia Zinovieva")
    page = await _phone(new_context)
    await sign_in(page, patron["email"], patron["password"], next_hash="/")
    await expect(page.get_by_test_id("results")).to_be_visible()

    await page.context.set_offline(True)
    await page.evaluate("location.hash = '#/account'")

    await expect(page.get_by_text("Your loans could not be loaded.")).to_be_visible()
    await expect(page.get_by_text("Your holds could not be loaded.")).to_be_visible()
    await expect(page.get_by_text("Your fines could not be loaded.")).to_be_visible()
    await expect(page.get_by_text("You have no books on loan.")).to_have_count(0)
    await expect(page.get_by_text("You have no holds.")).to_have_count(0)
    await expect(page.get_by_test_id("fines-total")).to_have_count(0)  # not "You owe nothing"
    assert await page.get_by_role("button", name="Try again").count() >= 3

    await page.context.set_offline(False)  # the phone finds its network: nothing tapped

    await expect(page.get_by_test_id("loans")).to_contain_text(one_copy_book.title)
    await expect(page.get_by_text("You have no holds.")).to_be_visible()
    await expect(page.get_by_role("button", name="Try again")).to_have_count(0)


async def test_try_again_loads_the_loans_that_failed(
    new_context, rest: httpx.AsyncClient, librarian, one_copy_book, unique_email
) -> None:
    patron = await _reader_with_a_loan(rest, librarian, one_copy_book, unique_email, "Sofia Perovskaya")
    page = await _phone(new_context)
    await page.route(ACTIVE_LOANS, lambda route: route.abort("internetdisconnected"), times=1)
    await sign_in(page, patron["email"], patron["password"])
    loans = page.get_by_role("region", name="Books on loan")
    await expect(loans).to_contain_text("Your loans could not be loaded.")
    await expect(loans).not_to_contain_text("You have no books on loan.")

    await loans.get_by_role("button", name="Try again").click()

    await expect(page.get_by_test_id("loans")).to_contain_text(one_copy_book.title)
    await expect(loans).not_to_contain_text("could not be loaded")


async def test_a_renewal_whose_reload_failed_keeps_the_list_shown(
    new_context, rest: httpx.AsyncClient, librarian, one_copy_book, unique_email
) -> None:
    patron = await _reader_with_a_loan(rest, librarian, one_copy_book, unique_email, "Anna Korvin")
    page = await _phone(new_context)
    await sign_in(page, patron["email"], patron["password"])
    loans = page.get_by_test_id("loans")
    await expect(loans).to_contain_text("0 / ")
    await page.route(ACTIVE_LOANS, lambda route: route.abort("internetdisconnected"), times=1)

    await loans.get_by_role("button", name=f"Renew {one_copy_book.title}").click()

    await expect(page.get_by_text("Your loans could not be loaded.")).to_be_visible()
    await expect(page.get_by_text("You have no books on loan.")).to_have_count(0)
    await expect(loans).to_contain_text("1 / ")  # the renewed loan, as the renewal answered it


async def test_a_book_opened_offline_says_so_and_is_shown_once_online(new_context, library) -> None:
    book = library["Heart of a Dog"]
    page = await _phone(new_context)
    await page.goto("/#/")
    await expect(page.get_by_test_id("results")).to_be_visible()

    await page.context.set_offline(True)
    await page.evaluate(f"location.hash = '#/books/{book.id}'")

    await expect(page.get_by_text("This book could not be loaded.")).to_be_visible()
    await expect(page.get_by_role("button", name="Try again")).to_be_visible()

    await page.context.set_offline(False)

    await expect(page.get_by_role("heading", level=1)).to_have_text(book.title)
    await expect(page.get_by_role("table").filter(has_text="main")).to_be_visible()  # the copies too


async def test_try_again_on_a_book_loads_it(new_context, library) -> None:
    book = library["The White Guard"]
    page = await _phone(new_context)

    async def unreachable(route: Route) -> None:
        await route.abort("internetdisconnected")

    await page.route(f"**/v1/books/{book.id}", unreachable, times=1)
    await page.goto(f"/#/books/{book.id}")
    await expect(page.get_by_text("This book could not be loaded.")).to_be_visible()

    await page.get_by_role("button", name="Try again").click()

    await expect(page.get_by_role("heading", level=1)).to_have_text(book.title)
