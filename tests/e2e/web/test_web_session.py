"""The web client's session in a real browser: the refresh token stays out of reach of scripts, an expired
access token is refreshed without the patron noticing, a reload keeps the session, signing out revokes it."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from browser_helpers import expired_access_token, register, sign_in
from playwright.async_api import Page, Response, Route, expect

pytestmark = pytest.mark.e2e

COOKIE = "athenaeum_refresh"
WEB_SESSION = {"x-athenaeum-session": "cookie"}


async def test_the_refresh_token_lives_in_an_http_only_strict_cookie_and_nowhere_a_script_can_read(
    page: Page, rest: httpx.AsyncClient, unique_email
) -> None:
    patron = await register(rest, unique_email(), "Sofia Parnok")
    login = []
    page.on("response", lambda response: login.append(response) if response.url.endswith("/v1/auth/login") else None)
    await sign_in(page, patron["email"], patron["password"])

    (cookie,) = [c for c in await page.context.cookies() if c["name"] == COOKIE]
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and cookie["path"] == "/v1/auth"
    assert cookie["expires"] == -1, "a session cookie: closing the browser (a shared desk PC) ends the session"
    assert COOKIE not in await page.evaluate("() => document.cookie")
    stored = await page.evaluate("() => JSON.stringify({...localStorage}) + JSON.stringify({...sessionStorage})")
    assert cookie["value"] not in stored and "eyJ" not in stored, "no token in web storage"
    body = await login[0].json()
    assert body["tokens"]["refresh_token"] == "" and body["tokens"]["access_token"], "the edge took it out"


async def test_an_expired_access_token_is_refreshed_silently(
    page: Page, rest: httpx.AsyncClient, mesh, unique_email
) -> None:
    patron = await register(rest, unique_email(), "Nikolay Gumilev")
    await sign_in(page, patron["email"], patron["password"])
    await expect(page.get_by_role("heading", name="My account")).to_be_visible()
    expired = await expired_access_token(mesh.database_url("users"), patron["access_token"])

    # The next call the page makes goes out with a token that expired a minute ago, as after a long pause.
    async def with_the_expired_token(route: Route) -> None:
        await route.continue_(headers={**route.request.headers, "authorization": f"Bearer {expired}"})

    statuses: dict[str, list[int]] = {"loans": [], "refresh": []}

    def note(response: Response) -> None:
        if "/v1/auth/refresh" in response.url:
            statuses["refresh"].append(response.status)
        elif "/loans?" in response.url:
            statuses["loans"].append(response.status)

    page.on("response", note)
    await page.route("**/v1/users/*/loans?*", with_the_expired_token, times=1)
    await page.get_by_role("link", name="Catalogue").click()
    await page.get_by_role("link", name="My account").click()

    await expect(page.get_by_role("heading", name="My account")).to_be_visible()
    await expect(page.get_by_text("You have no books on loan.")).to_be_visible()
    assert 401 in statuses["loans"], "the edge refused the expired token"
    assert statuses["loans"][-1] == 200 and 200 in statuses["refresh"], statuses
    await expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    await expect(page.get_by_text("Please sign in")).to_have_count(0)


async def test_a_reload_keeps_the_session_and_signing_out_revokes_it(
    page: Page, rest: httpx.AsyncClient, unique_email
) -> None:
    patron = await register(rest, unique_email(), "Velimir Khlebnikov")
    await sign_in(page, patron["email"], patron["password"])
    await page.reload()
    await expect(page.get_by_role("heading", name="My account")).to_be_visible()
    (cookie,) = [c for c in await page.context.cookies() if c["name"] == COOKIE]

    await page.get_by_role("button", name="Sign out").click()
    await expect(page.get_by_role("banner").get_by_role("link", name="Sign in")).to_be_visible()
    assert [c for c in await page.context.cookies() if c["name"] == COOKIE] == []
    replayed = await rest.post(
        "/v1/auth/refresh", json={}, headers={**WEB_SESSION, "cookie": f"{COOKIE}={cookie['value']}"}
    )
    assert replayed.status_code == 401, "signing out revoked the session at the users service"


async def test_a_cross_site_request_cannot_use_the_session_cookie(mesh, rest: httpx.AsyncClient, unique_email) -> None:
    patron = await register(rest, unique_email(), "Daniil Kharms")
    credentials = {"email": patron["email"], "password": patron["password"]}
    async with httpx.AsyncClient(base_url=mesh.edge_url, timeout=10) as browser_like:  # its own cookie jar
        token = (await browser_like.post("/v1/auth/login", json=credentials, headers=WEB_SESSION)).cookies[COOKIE]
        forged = await browser_like.post(
            "/v1/auth/refresh", json={}, headers={**WEB_SESSION, "origin": "https://evil.example"}
        )
        # One error format: the reason is the Status's message, not a Status JSON inside it.
        assert forged.status_code == 401 and forged.json() == {
            "code": 16,
            "message": "cross-origin session request refused",
            "details": [
                {
                    "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                    "reason": "SESSION_REFUSED",
                    "domain": "athenaeum.library",
                    "metadata": {},
                }
            ],
        }
        same_site = await browser_like.post(
            "/v1/auth/refresh", json={}, headers={**WEB_SESSION, "origin": mesh.edge_url}
        )
        assert same_site.status_code == 200 and same_site.cookies[COOKIE] != token
    async with httpx.AsyncClient(base_url=mesh.edge_url, timeout=10) as cookieless:
        without = await cookieless.post("/v1/auth/refresh", json={}, headers=WEB_SESSION)
        assert without.status_code == 401 and without.json()["message"] == "no session: sign in", without.text
    # Other clients keep the documented contract: the refresh token in the JSON body, no cookie.
    plain = await rest.post("/v1/auth/login", json=credentials)
    assert plain.json()["tokens"]["refresh_token"] and COOKIE not in plain.cookies


HINT = "athenaeum.signed-in"
UNAVAILABLE = {"code": 14, "message": "no healthy upstream", "details": []}


async def test_a_refresh_the_edge_cannot_answer_keeps_the_session_and_is_tried_again(
    page: Page, rest: httpx.AsyncClient, unique_email
) -> None:
    patron = await register(rest, unique_email(), "Marina Tsvetaeva")
    await sign_in(page, patron["email"], patron["password"])
    refreshes: list[int] = []
    page.on("response", lambda r: refreshes.append(r.status) if r.url.endswith("/v1/auth/refresh") else None)
    await page.route("**/v1/auth/refresh", lambda route: route.fulfill(status=503, json=UNAVAILABLE), times=1)

    await page.reload()  # the users service restarts just then: one 503

    await expect(page.get_by_role("heading", name="My account")).to_be_visible()
    await expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    await expect(page.get_by_text("Please sign in")).to_have_count(0)
    assert refreshes[:2] == [503, 200], refreshes
    assert await page.evaluate(f"() => localStorage.getItem('{HINT}')") == "1"


async def test_a_users_service_restart_during_a_reload_keeps_the_session_and_its_cookie(
    page: Page, rest: httpx.AsyncClient, mesh, unique_email
) -> None:
    patron = await register(rest, unique_email(), "Andrei Bely")
    await sign_in(page, patron["email"], patron["password"])
    await expect(page.get_by_role("heading", name="My account")).to_be_visible()
    users = mesh.process("users")
    users.stop()
    try:
        async with page.expect_response(lambda r: r.url.endswith("/v1/auth/refresh")) as answer:
            await page.reload()
        assert (await answer.value).status == 503
        await expect(page.get_by_text("cannot renew it right now")).to_be_visible()
        assert [c for c in await page.context.cookies() if c["name"] == COOKIE], "the edge kept the cookie"
    finally:
        users.start()
        await asyncio.to_thread(mesh.wait_ready, "users")

    await expect(page.get_by_role("heading", name="My account")).to_be_visible(timeout=60_000)
    await expect(page.get_by_role("button", name="Sign out")).to_be_visible()


async def test_a_call_whose_token_cannot_be_renewed_fails_with_a_retryable_error_and_the_session_stays(
    page: Page, rest: httpx.AsyncClient, mesh, unique_email
) -> None:
    patron = await register(rest, unique_email(), "Osip Mandelstam")
    await sign_in(page, patron["email"], patron["password"])
    await expect(page.get_by_role("heading", name="My account")).to_be_visible()
    expired = await expired_access_token(mesh.database_url("users"), patron["access_token"])

    async def with_the_expired_token(route: Route) -> None:
        await route.continue_(headers={**route.request.headers, "authorization": f"Bearer {expired}"})

    await page.route("**/v1/users/*/loans?*", with_the_expired_token, times=1)
    await page.route("**/v1/auth/refresh", lambda route: route.fulfill(status=429, json={"code": 8}))
    await page.get_by_role("link", name="Catalogue").click()
    await page.get_by_role("link", name="My account").click()

    await expect(page.get_by_text("could not renew your session just now")).to_be_visible()
    await expect(page.get_by_text("cannot renew it right now")).to_be_visible()
    await expect(page.get_by_role("button", name="Sign out")).to_be_visible()

    await page.unroute("**/v1/auth/refresh")  # the edge answers again: the scheduled retry renews the session
    await expect(page.get_by_text("cannot renew it right now")).to_have_count(0)
    await expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    assert await page.evaluate(f"() => localStorage.getItem('{HINT}')") == "1"


async def test_a_refused_refresh_token_signs_out(page: Page, rest: httpx.AsyncClient, unique_email) -> None:
    patron = await register(rest, unique_email(), "Sergei Yesenin")
    await sign_in(page, patron["email"], patron["password"])
    refused = {"code": 16, "message": "the refresh token was revoked", "details": []}
    await page.route("**/v1/auth/refresh", lambda route: route.fulfill(status=401, json=refused), times=1)

    await page.reload()

    await expect(page.get_by_role("heading", name="Please sign in")).to_be_visible()
    assert await page.evaluate(f"() => localStorage.getItem('{HINT}')") is None


async def test_a_blocked_reader_signs_in_and_is_told_why_and_what_they_have_out(
    page: Page, rest: httpx.AsyncClient, librarian, unique_email
) -> None:
    """They could not sign in at all (403, no reason): never saw the staff's reason, their loans or fines."""
    reader = await register(rest, unique_email(), "Blocked Reader")
    blocked = await rest.patch(
        f"/v1/{reader['name']}",
        params={"update_mask": "status,status_reason"},
        json={"status": "USER_STATUS_BLOCKED", "status_reason": "Lost card"},
        headers=librarian.headers,
    )
    assert blocked.status_code == 200, blocked.text

    await page.goto("/#/signin")
    await page.get_by_label("Email").fill(reader["email"])
    await page.get_by_label("Password").fill(reader["password"])
    await page.get_by_role("button", name="Sign in").click()

    banner = page.get_by_test_id("account-restricted")
    await expect(banner).to_contain_text("Your account is blocked by the library.")
    await expect(page.get_by_test_id("status-reason")).to_have_text("Lost card")
    await expect(banner).to_contain_text("you cannot borrow, renew, place holds")
    await expect(page.get_by_role("heading", name="Books on loan")).to_be_visible()
