"""Small things the pages say: the window's title, who a page is for, a link to nothing, what a field lacks."""

from __future__ import annotations

import uuid

import httpx
import pytest
from browser_helpers import register, sign_in
from playwright.async_api import Page, expect

pytestmark = pytest.mark.e2e


async def test_a_page_that_does_not_exist_and_a_sign_in_page_have_titles_of_their_own(page: Page, library) -> None:
    """Both kept the title of the page before (a book's title, "Catalogue")."""
    book = library["Anna Karenina"]
    await page.goto(f"/#/books/{book.id}")
    await expect(page).to_have_title("Anna Karenina — Athenaeum")

    await page.goto("/#/nope")
    await expect(page.get_by_role("heading", level=1)).to_have_text("This page does not exist")
    await expect(page).to_have_title("This page does not exist — Athenaeum")
    await page.goto("/#/account")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Please sign in")
    await expect(page).to_have_title("Please sign in — Athenaeum")


async def test_a_visitor_who_opens_a_staff_page_is_told_it_is_for_staff(page: Page) -> None:
    """A signed-out visitor read "This page shows your own library account." on the desk."""
    await page.goto("/#/desk")

    await expect(page.get_by_role("heading", level=1)).to_have_text("For library staff")
    await expect(page.get_by_text("This page is for library staff. Sign in with a staff account.")).to_be_visible()
    await expect(page.get_by_role("link", name="Sign in").last).to_have_attribute("href", "#/signin?next=%2Fdesk")


@pytest.mark.parametrize("book_id", ["not-a-uuid", str(uuid.uuid4())])
async def test_a_link_to_no_book_says_the_page_does_not_exist(page: Page, book_id: str) -> None:
    """A malformed id showed the heading "Book" and "Some of the details are not valid."."""
    await page.goto(f"/#/books/{book_id}")

    await expect(page.get_by_role("heading", level=1)).to_have_text("This page does not exist")
    await expect(page).to_have_title("This page does not exist — Athenaeum")
    await expect(page.get_by_role("alert")).to_have_count(0)


async def test_a_book_whose_copies_are_all_withdrawn_says_it_has_none(
    page: Page, rest: httpx.AsyncClient, librarian
) -> None:
    """Under "Copies by branch" it showed an empty table, its header row only."""
    book = await rest.post("/v1/books", json={"title": "The Withdrawn Only"}, headers=librarian.headers)
    assert book.status_code == 200, book.text
    barcode = f"35{uuid.uuid4().int % 10**10:010d}"
    copy = await rest.post(f"/v1/{book.json()['name']}/copies", json={"barcode": barcode}, headers=librarian.headers)
    assert copy.status_code == 200, copy.text
    withdrawn = await rest.patch(
        f"/v1/{copy.json()['name']}",
        params={"update_mask": "status"},
        json={"status": "COPY_STATUS_WITHDRAWN"},
        headers=librarian.headers,
    )
    assert withdrawn.status_code == 200, withdrawn.text

    await page.goto(f"/#/books/{book.json()['name'].split('/')[-1]}")

    await expect(page.locator("article p", has_text="No copies yet")).to_be_visible()
    await expect(page.get_by_role("table")).to_have_count(0)


async def test_a_new_staff_account_s_short_password_is_said_under_the_field(page: Page, admin, unique_email) -> None:
    """Only "Some of the details are not valid." was shown; the password field said nothing."""
    await sign_in(page, admin.email, admin.password, next_hash="/users")
    await page.locator("#staff-email").fill(unique_email())
    await page.locator("#staff-password").fill("short")
    await page.get_by_role("button", name="Create the account").click()

    await expect(page.locator("#staff-password-error")).to_have_text("Must be at least 10 characters.")
    await expect(page.locator("#staff-password")).to_have_attribute("aria-invalid", "true")


async def test_a_refused_role_change_shows_the_role_the_user_still_has(
    page: Page, rest: httpx.AsyncClient, admin, unique_email
) -> None:
    """The select went on showing the role asked for, as if it had been given."""
    name = f"Yakov {uuid.uuid4().hex[:8]}"
    user = await register(rest, unique_email(), name)
    refusal = {
        "code": 9,
        "message": "the library would be left without an administrator",
        "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "LAST_ADMIN"}],
    }
    await page.route(
        lambda url: f"/v1/{user['name']}?" in url,
        lambda route: route.fulfill(status=400, json=refusal) if route.request.method == "PATCH" else route.fallback(),
    )
    await sign_in(page, admin.email, admin.password, next_hash="/users")
    await page.locator("#users-query").fill(name)
    await page.locator("#users-query").press("Enter")
    role = page.get_by_label(f"Role of {name}")
    await role.select_option("USER_ROLE_LIBRARIAN")
    await page.get_by_role("row", name=name).get_by_role("button", name="Save").click()

    await expect(page.get_by_role("row", name=name).get_by_role("alert")).to_contain_text("without an administrator")
    await expect(role).to_have_value("USER_ROLE_READER")
