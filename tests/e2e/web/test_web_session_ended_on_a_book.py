"""A reader whose session ended elsewhere taps "Place a hold" (or "Follow") on a book page: they are told in words,
at once, that it was not done, and signing in brings them back to the book (finding P4: the form silently became
"Sign in to reserve this book", nothing announced)."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest
from browser_helpers import PHONE, CallsInFlight, register, sign_in
from playwright.async_api import Page, expect

pytestmark = pytest.mark.e2e


async def _on_the_book_then_signed_out_elsewhere(
    new_context, rest: httpx.AsyncClient, librarian, book, email: str
) -> tuple[Page, dict]:
    """Signed in on a phone, on the book's page; then staff set the reader a new password (as at the desk),
    which ends every session of theirs, this one too."""
    reader = await register(rest, email, "Sasha Chorny")
    page = await (await new_context(viewport=PHONE)).new_page()
    calls = CallsInFlight(page)
    await sign_in(page, reader["email"], reader["password"], next_hash=f"/books/{book.id}")
    await expect(page.get_by_role("button", name="Place a hold")).to_be_visible()
    # A load still on its way when the session ends (the reader's follows, the library's branches) is refused
    # and signs the page out before the tap: the form would give way to "Sign in to reserve" under the test.
    await calls.settled()
    body = {"name": reader["name"], "new_password": "Desk-Set-Password-9"}
    changed = await rest.post(f"/v1/{reader['name']}:changePassword", json=body, headers=librarian.headers)
    assert changed.status_code == 200, changed.text
    # Each service learns of the sessions signed out from the users service's events: wait until the two this
    # page calls know (the REST session, ended with the page's, stands for it).
    for path in (f"/v1/{reader['name']}/holds", f"/v1/{reader['name']}/followedAuthors"):
        await _until_refused(rest, path, reader["access_token"])
    return page, {**reader, "password": "Desk-Set-Password-9"}


async def _until_refused(rest: httpx.AsyncClient, path: str, access_token: str) -> None:
    deadline = time.monotonic() + 10
    headers = {"authorization": f"Bearer {access_token}"}
    while (seen := (await rest.get(path, headers=headers)).status_code) != 401:
        assert time.monotonic() < deadline, f"GET {path} still answers {seen}"
        await asyncio.sleep(0.05)


async def test_a_hold_refused_because_the_session_ended_is_said_and_sign_in_comes_back_to_the_book(
    new_context, rest: httpx.AsyncClient, librarian, one_copy_book, unique_email
) -> None:
    page, reader = await _on_the_book_then_signed_out_elsewhere(
        new_context, rest, librarian, one_copy_book, unique_email()
    )
    await page.get_by_role("button", name="Place a hold").click()

    notice = page.get_by_test_id("session-ended-notice")
    await expect(notice).to_contain_text("Your session has ended")
    await expect(notice).to_contain_text("the hold was not placed")
    await expect(page.get_by_test_id("announce-alert")).to_contain_text("the hold was not placed")
    await expect(notice).to_be_focused()
    holds = await rest.get(f"/v1/{reader['name']}/holds", headers=librarian.headers)
    assert holds.json().get("holds", []) == [], "no hold was placed"

    await notice.get_by_role("link", name="Sign in").click()
    await page.get_by_label("Email").fill(reader["email"])
    await page.get_by_label("Password").fill(reader["password"])
    await page.get_by_role("button", name="Sign in").click()
    await expect(page).to_have_url(f"{page.url.split('#')[0]}#/books/{one_copy_book.id}")
    await page.get_by_role("button", name="Place a hold").click()
    await expect(page.get_by_test_id("my-hold")).to_be_visible()


async def test_a_follow_refused_because_the_session_ended_is_said(
    new_context, rest: httpx.AsyncClient, librarian, one_copy_book, unique_email
) -> None:
    page, _ = await _on_the_book_then_signed_out_elsewhere(new_context, rest, librarian, one_copy_book, unique_email())
    await page.get_by_role("button", name="Follow Andrei Bely").click()

    notice = page.get_by_test_id("session-ended-notice")
    await expect(notice).to_contain_text("the authors you follow were not changed")
    await expect(page.get_by_test_id("announce-alert")).to_contain_text("the authors you follow were not changed")
    await expect(notice.get_by_role("link", name="Sign in")).to_have_attribute(
        "href", f"#/signin?next=%2Fbooks%2F{one_copy_book.id}"
    )
