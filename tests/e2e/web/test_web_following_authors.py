"""A reader in a real browser follows a book's author from its page, follows another by name on the account
page, and unfollows one there."""

from __future__ import annotations

import httpx
import pytest
from browser_helpers import register, sign_in
from playwright.async_api import Page, expect

pytestmark = pytest.mark.e2e


async def test_a_reader_follows_authors_from_a_book_and_by_name_and_unfollows_one(
    page: Page, rest: httpx.AsyncClient, library, unique_email
) -> None:
    reader = await register(rest, unique_email(), "Lydia Follower")
    book = library["Anna Karenina"]
    await sign_in(page, reader["email"], reader["password"], next_hash=f"/books/{book.id}")
    await expect(page.get_by_role("heading", level=1)).to_contain_text("Anna Karenina")

    await page.get_by_role("button", name="Follow Leo Tolstoy").click()
    await expect(page.get_by_test_id("following")).to_have_text("Following Leo Tolstoy")

    await page.get_by_role("link", name="My account").click()
    followed = page.get_by_test_id("followed-authors")
    await expect(followed.get_by_role("listitem")).to_have_text(["Leo TolstoyUnfollow"])
    await followed.get_by_label("Author's name").fill("Chekhov, Anton")
    await followed.get_by_role("button", name="Follow", exact=True).click()
    await expect(followed).to_contain_text("You now follow Chekhov, Anton.")
    await followed.get_by_label("Author's name").fill("tolstoy leo")
    await followed.get_by_role("button", name="Follow", exact=True).click()
    await expect(followed.get_by_role("alert")).to_contain_text("You already follow this author.")

    await followed.get_by_role("button", name="Unfollow Leo Tolstoy").click()
    await expect(followed.get_by_role("listitem")).to_have_text(["Chekhov, AntonUnfollow"])
    mine = await rest.get(
        f"/v1/{reader['name']}/followedAuthors", headers={"authorization": f"Bearer {reader['access_token']}"}
    )
    assert [f["author"] for f in mine.json()["followed_authors"]] == ["Chekhov, Anton"]
