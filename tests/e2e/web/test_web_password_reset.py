"""A forgotten password in a real browser: "Forgot password?" on the sign-in page, the link from the mail sink,
the reset page takes the token from the URL fragment (and out of the address bar), the new password signs in."""

from __future__ import annotations

import asyncio
import re
import time

import httpx
import pytest
from browser_helpers import register, sign_in
from playwright.async_api import Page, expect

pytestmark = pytest.mark.e2e

FRAGMENT = re.compile(r"#/reset-password\?token=[A-Za-z0-9_-]{43,}")
NEW = "Fresh-Lantern-93"


async def _reset_link(mail_sink, email: str) -> str:
    deadline = time.monotonic() + 30  # users -> NATS -> notifications -> SMTP: 15 s is tight when busy
    while time.monotonic() < deadline:
        for number, mail in enumerate(await asyncio.to_thread(mail_sink.messages), start=1):
            if mail["headers"].get("X-Athenaeum-Kind") == "password_reset" and email in mail["rcpt_tos"]:
                text = (await asyncio.to_thread(mail_sink.message, number))["text"]
                return FRAGMENT.search(text).group(0)
        await asyncio.sleep(0.1)
    raise AssertionError(f"no reset mail for {email}")


async def test_a_reader_who_forgot_the_password_sets_a_new_one_from_the_mailed_link(
    page: Page, rest: httpx.AsyncClient, unique_email, mail_sink
) -> None:
    patron = await register(rest, unique_email(), "Anna Akhmatova")
    await page.goto("/#/signin")
    await page.get_by_role("link", name="Forgot password?").click()
    await page.get_by_label("Email").fill(patron["email"])
    await page.get_by_role("button", name="Send the link").click()
    await expect(page.get_by_role("status")).to_contain_text("a link to choose a new password is on its way")

    await page.goto(f"/{await _reset_link(mail_sink, patron['email'])}")
    await expect(page.get_by_role("heading", name="Choose a new password")).to_be_visible()
    assert await page.evaluate("() => location.hash") == "#/reset-password", "the token left the address bar"
    await page.get_by_label("New password", exact=True).fill(NEW)
    await page.get_by_role("button", name="Set the password").click()
    await expect(page.get_by_role("status")).to_contain_text("Your password is changed")
    await sign_in(page, patron["email"], NEW)
