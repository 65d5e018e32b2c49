"""What a slow link shows first (finding P3): index.html says something in words before any script runs, and
it names every module the app imports, so the browser fetches them at once rather than one level of
imports per round trip."""

from __future__ import annotations

import posixpath
import re
from html.parser import HTMLParser

from services.support.mesh.envoy_web import WEB_SOURCE

ENTRY = "js/main.js"
STATIC_IMPORT = re.compile(r'(?:\bfrom|\bimport)\s*"(\.{1,2}/[^"]+)"')


def index_html() -> str:
    return (WEB_SOURCE / "index.html").read_text(encoding="utf-8")


def module_graph(entry: str = ENTRY) -> set[str]:
    """Every module (relative to web/) the entry imports statically, directly or through others, itself included."""
    seen: set[str] = set()
    pending = [entry]
    while pending:
        module = pending.pop()
        if module in seen:
            continue
        seen.add(module)
        text = (WEB_SOURCE / module).read_text(encoding="utf-8")
        folder = posixpath.dirname(module)
        pending += [posixpath.normpath(posixpath.join(folder, target)) for target in STATIC_IMPORT.findall(text)]
    return seen


class _Page(HTMLParser):
    """The page's modulepreload links and the text inside #app outside <noscript>."""

    def __init__(self) -> None:
        super().__init__()
        self.preloads: list[str] = []
        self.app_text: list[str] = []
        self._in_app = 0
        self._in_noscript = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "link" and found.get("rel") == "modulepreload":
            self.preloads.append(str(found["href"]))
        if tag == "div" and (found.get("id") == "app" or self._in_app):
            self._in_app += 1
        self._in_noscript = self._in_noscript or tag == "noscript"

    def handle_endtag(self, tag: str) -> None:
        if tag == "div" and self._in_app:
            self._in_app -= 1
        if tag == "noscript":
            self._in_noscript = False

    def handle_data(self, data: str) -> None:
        if self._in_app and not self._in_noscript and data.strip():
            self.app_text.append(data.strip())


def parsed() -> _Page:
    page = _Page()
    page.feed(index_html())
    return page


def test_every_module_the_app_imports_is_preloaded_by_the_page() -> None:
    preloaded = {href.lstrip("/") for href in parsed().preloads}
    wanted = module_graph() - {ENTRY}  # main.js is the page's own module script
    missing = sorted(wanted - preloaded)
    assert not missing, "add to web/index.html: " + " ".join(f'<link rel="modulepreload" href="/{m}">' for m in missing)


def test_the_page_preloads_nothing_the_app_does_not_import() -> None:
    vendored = {f"vendor/{path.name}" for path in (WEB_SOURCE / "vendor").glob("*.mjs")}
    preloads = parsed().preloads
    assert len(preloads) == len(set(preloads)), "a module preloaded twice"
    assert {href.lstrip("/") for href in preloads} <= module_graph() | vendored


def test_the_page_says_it_is_loading_before_any_script_runs_in_both_languages() -> None:
    words = " ".join(parsed().app_text)
    assert "loading" in words.lower() and "Загружаем" in words, f"#app says only {words!r} before the app mounts"


def test_the_graph_walker_follows_imports_across_lines_and_folders() -> None:
    graph = module_graph()
    assert {"js/pages/account.js", "js/renewing.js", "js/api.js"} <= graph
    assert all((WEB_SOURCE / module).is_file() for module in graph)
