"""A reader on a phone (findings P2, P3): the controls they come for are 44x44 CSS px touch targets, the
catalogue's filter rows are that tall too (a desktop keeps its compact sizes), the page says it is loading
before any script has run, and a second visit downloads none of the client's scripts again (the page is
revalidated; the scripts, named by versioned URLs, come from the cache)."""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from browser_helpers import DESKTOP, PHONE, register, sign_in
from playwright.async_api import Browser, BrowserContext, Page, expect

pytestmark = pytest.mark.e2e

TARGET_PX = 44
# Every visible control of the header and the page (the brand link aside: it is a logo, not a control).
SMALL_TARGETS = """(selector) => [...document.querySelectorAll(selector)]
  .filter((element) => element.offsetParent && !element.closest('.brand'))
  .map((element) => {
    const box = element.getBoundingClientRect();
    return [(element.textContent || element.getAttribute('aria-label') || '').trim().slice(0, 30),
            Math.round(box.width), Math.round(box.height)];
  })
  .filter(([, width, height]) => width < TARGET || height < TARGET)""".replace("TARGET", str(TARGET_PX))
CONTROLS = "header button, header a, main button, main a.button, main label.check, main .facet-link"


@pytest.fixture
async def phone(browser: Browser, mesh) -> AsyncIterator[BrowserContext]:
    """A touch phone, as the tester's: 390x844, touch, mobile viewport."""
    context = await browser.new_context(base_url=mesh.edge_url, viewport=PHONE, has_touch=True, is_mobile=True)
    context.set_default_timeout(15_000)
    yield context
    await context.close()


async def _book_without_copies(rest: httpx.AsyncClient, staff) -> str:
    book = {"title": f"Tide Tables {uuid.uuid4().hex[:6]}", "authors": ["Ann Ward"]}
    made = await rest.post("/v1/books", json=book, headers=staff.headers)
    assert made.status_code == 200, made.text
    name: str = made.json()["name"]
    return name


async def _small_targets(page: Page) -> list:
    found: list = await page.evaluate(SMALL_TARGETS, CONTROLS)
    return found


async def test_on_a_phone_the_account_s_buttons_and_the_language_switch_are_44_px_targets(
    phone: BrowserContext, rest: httpx.AsyncClient, librarian, one_copy_book, unique_email
) -> None:
    reader = await register(rest, unique_email(), "Thumb Reader")
    loan = {"patron": reader["name"], "barcode": one_copy_book.barcodes[0]}
    assert (await rest.post("/v1/loans:issue", json=loan, headers=librarian.headers)).status_code == 200
    hold = {"patron": reader["name"], "book": await _book_without_copies(rest, librarian)}
    headers = {"authorization": f"Bearer {reader['access_token']}"}
    assert (await rest.post("/v1/holds", json=hold, headers=headers)).status_code == 200

    page = await phone.new_page()
    await sign_in(page, reader["email"], reader["password"], next_hash="/account")
    await expect(page.get_by_role("button", name="Renew", exact=False).first).to_be_visible()
    await expect(page.get_by_role("button", name="Cancel hold", exact=False).first).to_be_visible()
    await expect(page.locator("main label.check").first).to_be_visible()
    assert await _small_targets(page) == []


async def test_on_a_phone_the_catalogue_s_filter_rows_are_44_px_apart(phone: BrowserContext, library) -> None:
    page = await phone.new_page()
    await page.goto("/#/?q=Bulgakov")
    await page.locator(".facets summary").click()  # folded on a phone
    await expect(page.locator(".facets label.check").first).to_be_visible()
    assert await _small_targets(page) == []
    heights = "(items) => items.map((li) => li.getBoundingClientRect().height)"
    rows = await page.locator(".facets li").evaluate_all(heights)
    assert rows and min(rows) >= TARGET_PX, rows


async def test_a_desktop_keeps_the_compact_sizes(page: Page) -> None:
    await page.set_viewport_size(DESKTOP)
    await page.goto("/")
    language = page.get_by_role("button", name="RU")
    await expect(language).to_be_visible()
    box = await language.bounding_box()
    assert box and box["height"] < TARGET_PX


async def test_the_page_says_it_is_loading_until_the_app_mounts(phone: BrowserContext) -> None:
    page = await phone.new_page()
    released = asyncio.Event()

    async def hold_main(route) -> None:  # the app's module held back, as a slow link does
        await released.wait()
        await route.continue_()

    await page.route("**/js/main.js?v=*", hold_main)  # the page names each file by its version
    await page.goto("/", wait_until="commit")  # module scripts hold up DOMContentLoaded
    loading = page.get_by_role("status").filter(has_text="loading the catalogue")
    await expect(loading).to_be_visible()
    await expect(loading).to_contain_text("Загружаем каталог")
    released.set()
    await expect(page.get_by_role("heading", level=1)).to_be_visible()
    await expect(loading).to_have_count(0)


async def test_the_edge_answers_a_browser_holding_the_current_file_with_304(mesh) -> None:
    async with httpx.AsyncClient(base_url=mesh.edge_url, headers={"accept-encoding": "gzip"}) as edge:
        first = await edge.get("/js/main.js")
        tag = first.headers["etag"]
        again = await edge.get("/js/main.js", headers={"if-none-match": tag})
        stale = await edge.get("/js/main.js", headers={"if-none-match": '"an-older-version"'})
    assert first.status_code == 200 and again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == tag
    assert stale.status_code == 200 and stale.content == first.content


async def test_a_second_visit_downloads_no_script_again(phone: BrowserContext) -> None:
    first = await phone.new_page()
    await first.goto("/")
    await expect(first.get_by_role("heading", level=1)).to_be_visible()
    again = await phone.new_page()
    # Statuses as they came over the wire: the page, and CDP's responseReceived, see a revalidated copy as 200.
    urls: dict[str, str] = {}
    wire: dict[str, int] = {}
    cdp = await phone.new_cdp_session(again)
    await cdp.send("Network.enable")
    cdp.on("Network.requestWillBeSent", lambda event: urls.__setitem__(event["requestId"], event["request"]["url"]))
    cdp.on("Network.responseReceivedExtraInfo", lambda event: wire.__setitem__(event["requestId"], event["statusCode"]))
    await again.goto("/")
    await expect(again.get_by_role("heading", level=1)).to_be_visible()
    await again.wait_for_load_state("networkidle")
    statuses = {urls.get(request, request): status for request, status in wire.items()}
    downloaded = [url for url, status in statuses.items() if status == 200 and re.search(r"\.m?js(\?|$)", url)]
    assert downloaded == [], f"fetched again: {downloaded}"
    assert any(url.endswith("/") and status == 304 for url, status in statuses.items()), statuses
