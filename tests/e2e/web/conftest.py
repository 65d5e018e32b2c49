"""Browser fixtures: one headless Chromium (Debian's package) for the session, a fresh context per test,
a small seeded library, and a way to sign in through the page.

Playwright cannot download its own browsers here, so it drives Debian's `chromium` through
`executable_path`; `./athenaeum test` installs the package when it runs as root. Without chromium these
tests fail, never skip silently — unless ATHENAEUM_BROWSER_TESTS=skip says to.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from browser_helpers import DESKTOP, SeededBook
from playwright.async_api import Browser, BrowserContext, Page, async_playwright, expect
from setup_calls import SetUpRetries, set_up

BROWSER_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SKIP_SWITCH = "ATHENAEUM_BROWSER_TESTS"
SCREENSHOT_SWITCH = "ATHENAEUM_SCREENSHOTS"
SCREENSHOT_DIR = Path(__file__).resolve().parents[3] / "docs" / "screenshots"
UI_TIMEOUT_MS = 15_000
# Assertions wait as long as actions do: expect's own 5 s ran out on a loaded CI machine while the page was
# still drawing what an event had just changed.
expect.set_options(timeout=UI_TIMEOUT_MS)


def chromium_executable() -> str:
    for candidate in (os.environ.get("ATHENAEUM_CHROMIUM"), shutil.which("chromium"), shutil.which("chromium-browser")):
        if candidate:
            return candidate
    if os.environ.get(SKIP_SWITCH) == "skip":
        pytest.skip(f"no chromium and {SKIP_SWITCH}=skip")
    pytest.fail(
        "chromium is not installed: `./athenaeum test` installs it when run as root "
        f"(apt-get install chromium); or set {SKIP_SWITCH}=skip to skip the browser tests",
        pytrace=False,
    )


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    """One Chromium for every browser test of the session."""
    executable = chromium_executable()
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(executable_path=executable, args=BROWSER_ARGS)
        try:
            yield chromium
        finally:
            await chromium.close()


@pytest.fixture(scope="session")
async def rest(mesh) -> AsyncIterator[httpx.AsyncClient]:
    """The REST edge for the tests' own setup calls (the pages make theirs from the browser)."""
    async with httpx.AsyncClient(base_url=mesh.edge_url, timeout=10, transport=SetUpRetries()) as client:
        yield client


@pytest.fixture(scope="session")
def screenshot_dir() -> Path:
    """docs/screenshots when asked to refresh the README's pictures, else a scratch folder."""
    if os.environ.get(SCREENSHOT_SWITCH) == "docs":
        SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
        return SCREENSHOT_DIR
    return Path(tempfile.mkdtemp(prefix="athenaeum-screenshots-"))


@pytest.fixture
async def new_context(browser: Browser, mesh) -> AsyncIterator[Callable[..., Awaitable[BrowserContext]]]:
    """new_context(viewport=…, locale=…, timezone_id=…): an isolated browser profile (its own cookies and storage)."""
    contexts: list[BrowserContext] = []

    async def make(
        *, viewport: dict[str, int] = DESKTOP, locale: str = "en-US", timezone_id: str | None = None
    ) -> BrowserContext:
        context = await browser.new_context(
            base_url=mesh.edge_url, viewport=viewport, locale=locale, timezone_id=timezone_id
        )
        context.set_default_timeout(UI_TIMEOUT_MS)
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        await context.close()


@pytest.fixture
async def page(new_context) -> AsyncIterator[Page]:
    """A desktop-sized page in a fresh context; a script error on it fails the test."""
    context = await new_context()
    tab = await context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda error: errors.append(str(error)))
    yield tab
    assert errors == [], f"script errors on the page: {errors}"


# Real titles, so the screenshots look like a library; the authors' names are what the tests search for.
SEED = (
    (
        "The Master and Margarita",
        ["Mikhail Bulgakov"],
        "en",
        ["novel", "satire"],
        1967,
        "The devil and his retinue visit Soviet Moscow, while a master writes a novel about Pontius Pilate.",
    ),
    (
        "Мастер и Маргарита",
        ["Михаил Булгаков"],
        "ru",
        ["роман", "сатира"],
        1967,
        "Воланд со свитой посещает Москву 1930-х, а Мастер пишет роман о Понтии Пилате.",  # noqa: RUF001
    ),
    (
        "The White Guard",
        ["Mikhail Bulgakov"],
        "en",
        ["novel", "history"],
        1925,
        "A family in Kyiv during the Russian Civil War, winter 1918.",
    ),
    (
        "Heart of a Dog",
        ["Mikhail Bulgakov"],
        "en",
        ["novella", "satire"],
        1925,
        "A Moscow surgeon transplants human organs into a stray dog.",
    ),
    (
        "Anna Karenina",
        ["Leo Tolstoy"],
        "en",
        ["novel", "classics"],
        1878,
        "A married aristocrat's affair with Count Vronsky, and Levin's search for meaning.",
    ),
    (
        "The Cherry Orchard",
        ["Anton Chekhov"],
        "en",
        ["play", "classics"],
        1904,
        "An aristocratic family loses its estate and its cherry orchard.",
    ),
)


def _create_book(edge: httpx.Client, staff: Any, entry: tuple, copies: int) -> SeededBook:
    title, authors, language, subjects, year, description = entry
    book = {
        "title": title,
        "authors": authors,
        "language": language,
        "subjects": subjects,
        "publication_year": year,
        "description": description,
        "publisher": "Athenaeum Press",
    }
    made = {"request_id": str(uuid.uuid4())}
    response = set_up(lambda: edge.post("/v1/books", json=book, params=made, headers=staff.headers))
    assert response.status_code == 200, response.text
    name = response.json()["name"]
    barcodes = []
    for index in range(copies):
        barcode = f"39{uuid.uuid4().int % 10**10:010d}"
        branch = ("main", "east")[index % 2]
        copy = {"barcode": barcode, "branch": branch, "shelf_location": "A2"}
        path, added = f"/v1/{name}/copies", {"request_id": str(uuid.uuid4())}
        created = set_up(lambda: edge.post(path, json=copy, params=added, headers=staff.headers))  # noqa: B023
        assert created.status_code == 200, created.text
        barcodes.append(barcode)
    return SeededBook(name, title, tuple(barcodes))


@pytest.fixture(scope="session")
def library(edge: httpx.Client, librarian: Any) -> dict[str, SeededBook]:
    """The seeded books by title (two copies each, at the branches "main" and "east")."""
    return {entry[0]: _create_book(edge, librarian, entry, copies=2) for entry in SEED}


@pytest.fixture
def one_copy_book(edge: httpx.Client, librarian: Any) -> SeededBook:
    """A book of its own (a new record each time) with a single copy: holds queue behind it."""
    entry = (
        "Petersburg",
        ["Andrei Bely"],
        "en",
        ["novel"],
        1913,
        "A bomb ticks in a sardine tin while a senator's son wanders the capital in a red domino.",
    )
    return _create_book(edge, librarian, entry, copies=1)
