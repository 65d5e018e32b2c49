"""What the browser tests do again and again: sign in through the page, measure drawing, mint tokens."""

from __future__ import annotations

import asyncio
import base64
import json
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import jwt
from playwright.async_api import Page, expect
from playwright.async_api import TimeoutError as PlaywrightTimeoutError

from services.users.data.signing_keys import SqlSigningKeys
from services.users.settings import DEV_KEY_PASSPHRASE

DESKTOP = {"width": 1280, "height": 860}
PHONE = {"width": 390, "height": 844}


@dataclass(frozen=True)
class SeededBook:
    name: str
    title: str
    barcodes: tuple[str, ...]

    @property
    def id(self) -> str:
        return self.name.split("/")[-1]


async def register(rest: httpx.AsyncClient, email: str, display_name: str, password: str = "Correct-Horse-42") -> dict:
    """A reader who registered over REST: their user resource, password and first access token."""
    body = {"email": email, "password": password, "display_name": display_name, "request_id": str(uuid.uuid4())}
    response = await rest.post("/v1/auth/register", json=body)
    assert response.status_code == 200, response.text
    body = response.json()
    return {**body["user"], "password": password, "access_token": body["tokens"]["access_token"]}


async def receive_hold_copy(rest: httpx.AsyncClient, staff, hold: str) -> dict:
    """Staff bring the copy set aside for `hold` (IN_TRANSIT: on the pull list) to its pickup desk and scan it
    (ReceiveHoldCopy): the hold as answered, READY."""
    held = (await rest.get(f"/v1/{hold}", headers=staff.headers)).json()
    barcode = (await rest.get(f"/v1/{held['copy']}", headers=staff.headers)).json()["barcode"]
    body = {"barcode": barcode, "branch": held.get("pickup_branch", ""), "request_id": str(uuid.uuid4())}
    received = await rest.post("/v1/holds:receive", json=body, headers=staff.headers)
    assert received.status_code == 200 and received.json()["status"] == "HOLD_STATUS_READY", received.text
    answer: dict = received.json()
    return answer


async def new_book(rest: httpx.AsyncClient, staff, title: str) -> tuple[str, str]:
    """A book of its own with one copy (never one of the session's seeded copies, which other tests lend):
    its name and the copy's barcode."""
    book = {"title": title, "authors": ["Ada Lovelace"]}
    made = await rest.post("/v1/books", json=book, params=_once(), headers=staff.headers)
    assert made.status_code == 200, made.text
    barcode = f"39{uuid.uuid4().int % 10**10:010d}"
    copy = await rest.post(
        f"/v1/{made.json()['name']}/copies", json={"barcode": barcode}, params=_once(), headers=staff.headers
    )
    assert copy.status_code == 200, copy.text
    return made.json()["name"], barcode


async def lend(rest: httpx.AsyncClient, staff, patron: dict, barcode: str) -> dict:
    """The copy `barcode` issued to `patron` at the desk: the loan."""
    body = {"patron": patron["name"], "barcode": barcode, "request_id": str(uuid.uuid4())}
    issued = await rest.post("/v1/loans:issue", json=body, headers=staff.headers)
    assert issued.status_code == 200, issued.text
    loan: dict = issued.json()
    return loan


def _once() -> dict[str, str]:
    """A request_id for a create whose body is the resource (it goes in the query): acted on once, so the set-up
    client (`rest`, tests/e2e/setup_calls.py) may ask again."""
    return {"request_id": str(uuid.uuid4())}


async def sign_in(page: Page, email: str, password: str, *, next_hash: str = "") -> None:
    """Sign in through the page's form, as a person would, and wait to be taken on."""
    await page.goto(f"/#/signin{f'?next={next_hash}' if next_hash else ''}")
    await page.get_by_label("Email").fill(email)
    await page.get_by_label("Password").fill(password)
    await page.get_by_role("button", name="Sign in").click()
    try:
        await page.wait_for_function("() => !location.hash.startsWith('#/signin')")
    except PlaywrightTimeoutError:
        said = await page.locator("[role=alert], .notice").all_inner_texts()
        raise AssertionError(f"still on the sign-in form; the page says: {said}") from None


class CallsInFlight:
    """The page's requests not yet answered, counted from when this is made: a test that changes the world
    under the page (ends its session) waits first until the page has nothing on its way, else a load still
    in flight meets the change and the page reacts to it before the test's own action."""

    def __init__(self, page: Page) -> None:
        self._pending: set = set()
        self._last_change = time.monotonic()
        page.on("request", self._started)
        page.on("requestfinished", self._ended)
        page.on("requestfailed", self._ended)

    def _started(self, request) -> None:
        self._pending.add(request)
        self._last_change = time.monotonic()

    def _ended(self, request) -> None:
        self._pending.discard(request)
        self._last_change = time.monotonic()

    async def settled(self, quiet_s: float = 0.5, timeout_s: float = 15) -> None:
        """Until nothing has been on its way for `quiet_s` (a load that starts another is waited for too)."""
        deadline = time.monotonic() + timeout_s
        while self._pending or time.monotonic() - self._last_change < quiet_s:
            assert time.monotonic() < deadline, f"still on their way: {[r.url for r in self._pending]}"
            await asyncio.sleep(0.05)


async def scan(page: Page, field_id: str, code: str) -> None:
    """What a scanner does: the code's characters, then Enter, into the field that has the focus (once it has
    it: keys typed while the page still moves the focus would land elsewhere)."""
    await expect(page.locator(f"#{field_id}")).to_be_focused()
    await page.keyboard.type(code)
    await page.keyboard.press("Enter")


async def screenshot(page: Page, folder: Path, name: str) -> Path:
    """A PNG of what the page shows now (full page), for the README."""
    path = folder / f"{name}.png"
    await page.screenshot(path=str(path), full_page=True, animations="disabled", caret="hide")
    return path


# Runs before the page's own scripts: notes the frames in which the results list changed (one frame after
# the DOM change: the frame in which the browser paints it). Preact may reuse a list item, so any change in
# the list counts, not only new items.
RECORD_RESULT_DRAWS = """
window.__resultDraws = [];
new MutationObserver((mutations) => {
  const element = (node) => (node.nodeType === 1 ? node : node.parentElement);
  const inResults = (node) => element(node)?.closest?.('[data-testid="results"]');
  if (mutations.some((m) => inResults(m.target))) {
    requestAnimationFrame(() => window.__resultDraws.push(performance.now()));
  }
}).observe(document, { childList: true, subtree: true, characterData: true });
"""

SEARCHES_TIMED = """
() => performance.getEntriesByType('resource').filter((e) => e.name.includes('/v1/books:search')).length
"""

DRAW_DELAY_AFTER_LAST_SEARCH = """
(before) => {
  // The browser adds a response's timing entry a moment after the response (later still on a loaded machine):
  // none yet for this search, nothing to measure yet.
  const searches = performance.getEntriesByType('resource').filter((e) => e.name.includes('/v1/books:search'));
  if (searches.length <= before) return null;
  const response = searches[searches.length - 1].responseEnd;
  const drawn = window.__resultDraws.filter((t) => t >= response);
  return drawn.length ? drawn[0] - response : null;
}
"""

FIRST_LOAD_BYTES = """
() => {
  const entries = [...performance.getEntriesByType('navigation'), ...performance.getEntriesByType('resource')];
  return entries.map((e) => ({ name: e.name, transfer: e.transferSize, decoded: e.decodedBodySize }));
}
"""


async def search_draw_delay_ms(page: Page, query: str) -> float:
    """Search from the catalogue's box; how long after the response arrived the results were on screen."""
    await page.get_by_label("Search the catalogue").fill(query)
    before = await page.evaluate(SEARCHES_TIMED)
    async with page.expect_response(lambda response: "/v1/books:search" in response.url):
        await page.get_by_role("button", name="Search", exact=True).click()
    deadline = time.monotonic() + 10
    while (delay := await page.evaluate(DRAW_DELAY_AFTER_LAST_SEARCH, before)) is None:
        assert time.monotonic() < deadline, f"the results of {query!r} were never drawn"
        await page.wait_for_timeout(20)
    return delay


async def expired_access_token(database_url: str, like: str) -> str:
    """A token like `like`, really signed by the users service's key, that expired a minute ago."""
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(database_url)
    try:
        store = SqlSigningKeys(engine, passphrase=DEV_KEY_PASSPHRASE.encode())
        key = (await store.keyring()).signing_key(datetime.now(UTC))
    finally:
        await engine.dispose()
    header, payload = (json.loads(_b64decode(part)) for part in like.split(".")[:2])
    issued = datetime.now(UTC) - timedelta(minutes=16)
    claims = {**payload, "iat": int(issued.timestamp()), "exp": int((issued + timedelta(minutes=15)).timestamp())}
    return jwt.encode(claims, key.private_key, algorithm="ES256", headers={**header, "kid": key.kid})


def _b64decode(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
