"""A phone number written as people write it (and as a phone's autofill fills it) is taken and kept in E.164;
one without the country code is refused in words naming the form expected (finding P6)."""

from __future__ import annotations

import httpx
import pytest
from browser_helpers import PHONE, register, sign_in
from playwright.async_api import expect

pytestmark = pytest.mark.e2e


async def _me(rest: httpx.AsyncClient, email: str, password: str) -> dict:
    login = await rest.post("/v1/auth/login", json={"email": email, "password": password})
    token = login.json()["tokens"]["access_token"]
    me: dict = (await rest.get("/v1/users/me", headers={"authorization": f"Bearer {token}"})).json()
    return me


async def test_the_contact_form_takes_a_formatted_number_and_refuses_a_national_one(
    new_context, rest: httpx.AsyncClient, unique_email
) -> None:
    reader = await register(rest, unique_email(), "Zinaida Gippius")
    page = await (await new_context(viewport=PHONE)).new_page()
    await sign_in(page, reader["email"], reader["password"])
    await expect(page.locator("#pref-phone-hint")).to_have_text(
        "With + and the country code, e.g. +7 999 123-45-67; spaces, brackets and dashes are fine. Optional."
    )
    await page.locator("#pref-phone").fill("+7 (999) 123-45-67")
    await page.get_by_role("button", name="Save", exact=True).click()
    await expect(page.get_by_text("Saved.")).to_be_visible()
    await expect(page.locator("#pref-phone")).to_have_value("+79991234567")  # as kept
    assert (await _me(rest, reader["email"], reader["password"]))["phone"] == "+79991234567"

    await page.locator("#pref-phone").fill("8 999 123-45-67")
    await page.get_by_role("button", name="Save", exact=True).click()
    error = page.locator("#pref-phone-error")
    await expect(error).to_contain_text("+ and the country code instead of 8 or 0, e.g. +7 999 123-45-67")
    await expect(page.locator("#pref-phone")).to_be_focused()
    assert (await _me(rest, reader["email"], reader["password"]))["phone"] == "+79991234567", "kept as it was"


async def test_registration_takes_a_number_with_dashes(new_context, rest: httpx.AsyncClient, unique_email) -> None:
    email = unique_email()
    page = await (await new_context(locale="ru-RU", viewport=PHONE)).new_page()
    await page.goto("/#/register")
    await page.locator("#reg-email").fill(email)
    await page.locator("#reg-password").fill("Correct-Horse-42")
    await page.locator("#reg-phone").fill("89991234567")
    await page.locator("form button[type=submit]").click()
    await expect(page.locator("#reg-phone-error")).to_contain_text("«+» и код страны вместо 8 или 0")

    await page.locator("#reg-phone").fill("+1-555-000-2222")
    await page.locator("form button[type=submit]").click()
    await expect(page.get_by_role("heading", name="Мой кабинет")).to_be_visible()
    assert (await _me(rest, email, "Correct-Horse-42"))["phone"] == "+15550002222"
