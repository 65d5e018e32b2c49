"""Accessibility findings of the web client (findings-a11y, tester s8/t4), in a real browser, by keyboard: the
desk says whom a card found (A1); cancelling a hold (A2), placing one (A9) and following or unfollowing an author
(A16) keep the keyboard focus off <body> and say the result through a live region that was in the page before."""

from __future__ import annotations

import uuid

import httpx
import pytest
from browser_helpers import register, scan, sign_in
from playwright.async_api import Page, expect

pytestmark = pytest.mark.e2e

# The app's one polite status line and one alert line (web/js/a11y.js), there from the start; the desk says
# its answers through them too.
STATUS = "#announce-status"
ALERT = "#announce-alert"
FOCUS_ON_BODY = "() => document.activeElement === document.body"


async def _book(rest: httpx.AsyncClient, staff, title: str, author: str = "Leo Tolstoy") -> str:
    made = await rest.post("/v1/books", json={"title": title, "authors": [author]}, headers=staff.headers)
    assert made.status_code == 200, made.text
    body = {"barcode": f"35{uuid.uuid4().int % 10**10:010d}", "branch": "EAST"}
    added = await rest.post(f"/v1/{made.json()['name']}/copies", json=body, headers=staff.headers)
    assert added.status_code == 200, added.text
    name: str = made.json()["name"]
    return name


async def _press(page: Page, name: str) -> None:
    """Tab to the button named `name` (it gets the keyboard focus) and press Enter, as a keyboard user does."""
    button = page.get_by_role("button", name=name, exact=True)
    await expect(button).not_to_have_attribute("aria-disabled", "true")  # e.g. while the authors followed load
    await button.focus()
    await expect(button).to_be_focused()
    await page.keyboard.press("Enter")


async def test_a_card_scanned_at_the_desk_is_said_with_the_patron_and_a_blocked_one_as_a_refusal(
    page: Page, rest: httpx.AsyncClient, librarian, admin, unique_email
) -> None:
    reader = await register(rest, unique_email(), "Irina Reader")
    await sign_in(page, librarian.email, librarian.password)
    await scan(page, "desk-card", reader["card_number"])
    await expect(page.locator("#desk-barcode")).to_be_focused()
    await expect(page.locator(STATUS)).to_have_text(
        f"Patron: Irina Reader, card {reader['card_number']}, active; 0 on loan; owes nothing."
    )

    blocked = await register(rest, unique_email(), "Boris Blocked")
    body = {"status": "USER_STATUS_BLOCKED", "status_reason": "lost books"}
    patched = await rest.patch(
        f"/v1/{blocked['name']}", json=body, params={"update_mask": "status,status_reason"}, headers=admin.headers
    )
    assert patched.status_code == 200, patched.text
    await page.get_by_role("button", name="Next patron").click()
    await scan(page, "desk-card", blocked["card_number"])
    card = blocked["card_number"]
    said = f"Patron: Boris Blocked, card {card}, blocked; 0 on loan; owes nothing."
    await expect(page.get_by_test_id("desk-log").locator("li.patron-warning")).to_have_text(said)
    await expect(page.locator(ALERT)).to_have_text(said)  # the app's one assertive line


async def test_cancelling_a_hold_by_keyboard_says_so_and_keeps_the_focus_in_the_holds(
    page: Page, rest: httpx.AsyncClient, librarian, unique_email
) -> None:
    title = f"The Winter Keeper {uuid.uuid4().hex[:6]}"
    book = await _book(rest, librarian, title)
    reader = await register(rest, unique_email(), "Hold Canceller")
    headers = {"authorization": f"Bearer {reader['access_token']}"}
    held = await rest.post("/v1/holds", json={"patron": reader["name"], "book": book}, headers=headers)
    assert held.status_code == 200, held.text

    await sign_in(page, reader["email"], reader["password"], next_hash="/account")
    page.once("dialog", lambda dialog: dialog.accept())
    await _press(page, f"Cancel hold on “{title}”")
    await expect(page.get_by_text("You have no holds.")).to_be_visible()
    await expect(page.locator(STATUS)).to_have_text(f"Hold on “{title}” cancelled.")
    await expect(page.get_by_role("heading", name="Holds", exact=True)).to_be_focused()


async def test_placing_a_hold_by_keyboard_moves_the_focus_to_the_hold_and_says_it(
    page: Page, rest: httpx.AsyncClient, librarian, unique_email
) -> None:
    book = await _book(rest, librarian, f"Hold me {uuid.uuid4().hex[:6]}")
    reader = await register(rest, unique_email(), "Hold Placer")
    await sign_in(page, reader["email"], reader["password"], next_hash=f"/books/{book.split('/')[-1]}")
    await _press(page, "Place a hold")
    card = page.get_by_test_id("my-hold")
    await expect(card).to_be_focused()
    assert not await page.evaluate(FOCUS_ON_BODY)
    what = (await card.locator("strong").inner_text()).strip()
    await expect(page.locator(STATUS)).to_contain_text(what)


async def test_follow_and_unfollow_keep_the_focus_on_the_button_and_are_said_in_russian_too(
    page: Page, rest: httpx.AsyncClient, librarian, unique_email
) -> None:
    author = f"Lukas Neumann {uuid.uuid4().hex[:6]}"
    book = await _book(rest, librarian, "Ein Buch", author=author)
    reader = await register(rest, unique_email(), "Follower Two")
    await sign_in(page, reader["email"], reader["password"], next_hash=f"/books/{book.split('/')[-1]}")

    await _press(page, f"Follow {author}")
    await expect(page.get_by_test_id("following")).to_have_text(f"Following {author}")
    await expect(page.get_by_role("button", name=f"Unfollow {author}")).to_be_focused()
    await expect(page.locator(STATUS)).to_have_text(f"You now follow {author}.")
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("button", name=f"Follow {author}")).to_be_focused()
    await expect(page.locator(STATUS)).to_have_text(f"You no longer follow {author}.")

    await page.get_by_role("button", name="RU", exact=True).click()
    await _press(page, f"Подписаться на автора: {author}")
    await expect(page.get_by_role("button", name=f"Отписаться от автора: {author}")).to_be_focused()
    await expect(page.locator(STATUS)).to_have_text(f"Вы подписались на автора: {author}.")

    # The account page: the author's item goes with the button pressed; the focus stays in the section.
    await page.goto("/#/account")
    await _press(page, f"Отписаться от автора: {author}")
    await expect(page.get_by_role("heading", name="Авторы, на которых вы подписаны")).to_be_focused()
    await expect(page.locator(STATUS)).to_have_text(f"Вы отписались от автора: {author}.")
