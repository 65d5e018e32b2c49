"""A reader changes their own password on *My account* (finding P1: no page could, though the client told readers
they "may change it in their account"): the current one asked, refusals in words by field, the other sessions
signed out and this one kept, as the page says."""

from __future__ import annotations

import json

import httpx
import pytest
from browser_helpers import PHONE, register, sign_in
from playwright.async_api import Route, expect

pytestmark = pytest.mark.e2e

WEB_SESSION = {"x-athenaeum-session": "cookie"}


async def test_a_reader_changes_the_password_and_only_their_other_sessions_are_signed_out(
    new_context, rest: httpx.AsyncClient, unique_email
) -> None:
    reader = await register(rest, unique_email(), "Irina Odoevtseva")
    elsewhere = await rest.post("/v1/auth/login", json={"email": reader["email"], "password": reader["password"]})
    other_refresh = elsewhere.json()["tokens"]["refresh_token"]  # the reader's phone, say
    page = await (await new_context(viewport=PHONE)).new_page()
    await sign_in(page, reader["email"], reader["password"])
    section = page.get_by_test_id("change-password")
    await expect(section).to_contain_text("you stay signed in here")
    current, new = section.get_by_label("Current password"), section.get_by_label("New password")
    submit = section.get_by_role("button", name="Change password")

    await current.fill("not-my-password")
    await new.fill("Quiet-Lantern-71")
    await submit.click()
    await expect(section.locator("#password-current-error")).to_have_text("The current password is wrong.")
    await expect(current).to_be_focused()
    await expect(current).to_have_attribute("aria-invalid", "true")

    await current.fill(reader["password"])
    await new.fill("short")
    await submit.click()
    await expect(section.locator("#password-new-error")).to_have_text("Must be at least 10 characters.")
    await expect(new).to_be_focused()
    await new.fill("aaaaaaaaaaaa")
    await submit.click()
    await expect(section.locator("#password-new-error")).to_contain_text("Too easy to guess")

    await new.fill("Quiet-Lantern-71")
    await submit.click()
    said = "Your password is changed. Every other session of your account was signed out; you stay signed in here."
    await expect(section.get_by_test_id("password-changed")).to_have_text(said)
    await expect(page.get_by_test_id("announce-status")).to_have_text(said)
    await expect(current).to_have_value("")

    old = await rest.post("/v1/auth/login", json={"email": reader["email"], "password": reader["password"]})
    assert old.status_code == 401, old.text
    fresh = await rest.post("/v1/auth/login", json={"email": reader["email"], "password": "Quiet-Lantern-71"})
    assert fresh.status_code == 200, fresh.text
    revoked = await rest.post("/v1/auth/refresh", json={"refresh_token": other_refresh})
    assert revoked.status_code == 401, "the other session was signed out"
    await page.reload()  # this one was kept: its cookie still renews it
    await expect(page.get_by_role("heading", name="My account")).to_be_visible()
    await expect(page.get_by_role("button", name="Sign out")).to_be_visible()


async def test_the_russian_form_says_its_refusals_in_russian(
    new_context, rest: httpx.AsyncClient, unique_email
) -> None:
    reader = await register(rest, unique_email(), "Nadezhda Teffi")
    page = await (await new_context(locale="ru-RU")).new_page()
    await page.goto("/#/signin")
    await page.locator("input[type=email]").fill(reader["email"])
    await page.locator("input[type=password]").fill(reader["password"])
    await page.locator("form button[type=submit]").click()
    section = page.get_by_test_id("change-password")
    await expect(section.get_by_role("heading", name="Пароль")).to_be_visible()

    await section.get_by_label("Текущий пароль").fill("не-тот-пароль")
    await section.get_by_label("Новый пароль").fill("password123")
    await section.get_by_role("button", name="Сменить пароль").click()
    await expect(section.locator("#password-new-error")).to_contain_text("Слишком легко угадать")
    await section.get_by_label("Новый пароль").fill("Тихий-Маяк-2026")
    await section.get_by_role("button", name="Сменить пароль").click()
    await expect(section.locator("#password-current-error")).to_have_text("Текущий пароль указан неверно.")
    await expect(section.get_by_text("must be")).to_have_count(0)


async def test_a_change_whose_answer_was_lost_pressed_again_is_answered_as_made_not_the_password_is_wrong(
    new_context, rest: httpx.AsyncClient, unique_email
) -> None:
    reader = await register(rest, unique_email(), "Sofia Parnok")
    page = await (await new_context(viewport=PHONE)).new_page()
    await sign_in(page, reader["email"], reader["password"])
    section = page.get_by_test_id("change-password")
    request_ids: list[str] = []

    async def answer_lost(route: Route) -> None:
        request_ids.append(json.loads(route.request.post_data or "{}")["request_id"])
        await route.fetch()  # the server changes the password...
        await route.abort("connectionreset")  # ...and its answer never arrives

    await page.route("**/v1/users/*:changePassword", answer_lost, times=1)
    await section.get_by_label("Current password").fill(reader["password"])
    await section.get_by_label("New password").fill("Amber-Lantern-58")
    submit = section.get_by_role("button", name="Change password")
    await submit.click()
    await expect(section.get_by_role("alert")).to_be_visible()  # no answer: not said to be done
    async with page.expect_request("**/v1/users/*:changePassword") as again:
        await submit.click()  # pressed again, the form as it was
    assert json.loads((await again.value).post_data or "{}")["request_id"] == request_ids[0]
    await expect(section.get_by_test_id("password-changed")).to_contain_text("Your password is changed.")
    await expect(section.locator("#password-current-error")).to_have_count(0)
