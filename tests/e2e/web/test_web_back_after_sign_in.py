"""Back after signing in or registering leads to the page before the form, never to the form again while signed
in (finding P5: a phone's Back showed the registration form, and a second submit made a second account)."""

from __future__ import annotations

import httpx
import pytest
from browser_helpers import PHONE, register
from playwright.async_api import Page, expect

pytestmark = pytest.mark.e2e


async def _phone(new_context) -> Page:
    return await (await new_context(viewport=PHONE)).new_page()


async def test_back_after_registering_goes_to_the_page_before_the_form(new_context, unique_email) -> None:
    page = await _phone(new_context)
    await page.goto("/#/")
    await expect(page.get_by_role("heading", name="Find a book")).to_be_visible()
    await page.get_by_role("banner").get_by_role("link", name="Sign in").click()
    await page.get_by_role("link", name="No account yet? Create one").click()
    await page.locator("#reg-email").fill(unique_email())
    await page.locator("#reg-password").fill("Correct-Horse-42")
    await page.get_by_role("button", name="Create account").click()
    await expect(page.get_by_role("heading", name="My account")).to_be_visible()

    await page.go_back()  # to the sign-in form shown before: signed in, the reader is sent on
    await expect(page.get_by_role("heading", name="Create an account")).to_have_count(0)
    await expect(page.get_by_role("heading", name="Sign in")).to_have_count(0)
    await page.wait_for_function("() => !/^#\\/(signin|register)/.test(location.hash)")
    await page.go_back()
    await expect(page.get_by_role("heading", name="Find a book")).to_be_visible()


async def test_back_after_signing_in_from_a_book_leaves_the_form_out(
    new_context, rest: httpx.AsyncClient, library, unique_email
) -> None:
    reader = await register(rest, unique_email(), "Teffi")
    book = library["The White Guard"]
    page = await _phone(new_context)
    await page.goto("/#/")
    await page.goto(f"/#/books/{book.id}")
    await expect(page.get_by_role("heading", level=1)).to_have_text(book.title)  # else: what the page shows
    # The hold panel's own link (it comes back to the book), once the book is drawn: `.last` alone clicked the
    # banner's link when the panel was not there yet, and the sign-in then went to My account.
    await page.get_by_role("main").get_by_role("link", name="Sign in").click()
    await page.get_by_label("Email").fill(reader["email"])
    await page.get_by_label("Password").fill(reader["password"])
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("button", name="Place a hold")).to_be_visible()
    assert await page.evaluate("() => location.hash") == f"#/books/{book.id}"

    await page.go_back()  # the book as it was before signing in: the form's entry was replaced
    await expect(page.get_by_role("heading", level=1)).to_have_text(book.title)
    assert await page.evaluate("() => location.hash") == f"#/books/{book.id}"
    await expect(page.get_by_label("Password")).to_have_count(0)


async def test_a_form_opened_anew_while_signed_in_still_signs_in_as_someone_else(
    new_context, rest: httpx.AsyncClient, unique_email
) -> None:
    """A shared PC: the next person may sign in over the last one's session (the desk relies on it)."""
    readers = [await register(rest, unique_email(), name) for name in ("Ada", "Bea")]
    page = await _phone(new_context)
    for reader in readers:
        await page.goto("/#/signin")
        await page.get_by_label("Email").fill(reader["email"])
        await page.get_by_label("Password").fill(reader["password"])
        await page.get_by_role("button", name="Sign in").click()
        await expect(page.get_by_test_id("card-number")).to_have_text(reader["card_number"])
