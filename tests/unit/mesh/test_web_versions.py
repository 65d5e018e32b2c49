"""The page as the edge serves it names every file by a versioned URL, so a returning browser keeps the
modules without asking (finding P3): each module is mapped, each link and script points at its version,
a changed file gets a new URL, and the edge keeps a versioned URL for a year."""

from __future__ import annotations

import json
import re
from pathlib import Path

from services.support.mesh.envoy_web import IMMUTABLE, WEB_SOURCE, web_files, web_routes
from services.support.mesh.web_versions import versioned_index, versioned_urls

PAGE = """<link rel="stylesheet" href="/app.css">
<script type="importmap">{"imports": {"preact": "/vendor/preact.mjs"}}</script>
<link rel="modulepreload" href="/js/api.js">
<script type="module" src="/js/main.js"></script>"""


def _folder(tmp_path: Path) -> dict[str, str]:
    for relative, text in {
        "app.css": "body {}",
        "vendor/preact.mjs": "export {};",
        "js/api.js": "export const a = 1;",
        "js/main.js": 'import "./api.js";',
    }.items():
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_text(text)
    return versioned_urls(tmp_path, ["app.css", "vendor/preact.mjs", "js/api.js", "js/main.js"])


def test_every_module_and_link_points_at_its_version(tmp_path: Path) -> None:
    versions = _folder(tmp_path)
    page = versioned_index(PAGE, versions)
    (raw,) = re.findall(r'<script type="importmap">(.*?)</script>', page, re.DOTALL)
    imports = json.loads(raw)["imports"]
    assert imports["preact"] == versions["/vendor/preact.mjs"]
    # Plain URLs too: "./api.js" inside main.js resolves to /js/api.js, which the map sends to its version.
    assert imports["/js/api.js"] == versions["/js/api.js"] and imports["/js/main.js"] == versions["/js/main.js"]
    assert "/app.css" not in imports, "a style sheet is no module"
    for url in ("/app.css", "/js/api.js", "/js/main.js"):
        assert f'"{versions[url]}"' in page.replace(raw, "")
    assert not re.search(r'(href|src)="/[^"?]+"', page), page


def test_a_changed_file_gets_a_new_url_and_the_others_keep_theirs(tmp_path: Path) -> None:
    before = _folder(tmp_path)
    (tmp_path / "js/api.js").write_text("export const a = 2;")
    after = versioned_urls(tmp_path, ["app.css", "vendor/preact.mjs", "js/api.js", "js/main.js"])
    assert after["/js/api.js"] != before["/js/api.js"] and after["/js/main.js"] == before["/js/main.js"]


def test_the_real_page_maps_every_module_the_edge_serves() -> None:
    served = [path for path in web_files() if path != "index.html"]
    versions = versioned_urls(WEB_SOURCE, served)
    page = versioned_index((WEB_SOURCE / "index.html").read_text(encoding="utf-8"), versions)
    (raw,) = re.findall(r'<script type="importmap">(.*?)</script>', page, re.DOTALL)
    modules = {url for url in versions if url.endswith((".js", ".mjs"))}
    assert modules <= set(json.loads(raw)["imports"])


def test_the_edge_keeps_a_versioned_url_for_a_year_and_revalidates_a_plain_one() -> None:
    routes = web_routes(Path("/srv/web"))
    for_main = [route for route in routes if route["match"]["path"] == "/js/main.js"]
    versioned, not_modified, plain = for_main
    headers = {h["header"]["key"]: h["header"]["value"] for h in versioned["response_headers_to_add"]}
    assert versioned["match"]["query_parameters"] == [{"name": "v", "present_match": True}]
    assert headers["cache-control"] == IMMUTABLE
    assert not_modified["direct_response"] == {"status": 304} and "query_parameters" not in plain["match"]
    page = next(route for route in routes if route["match"] == {"path": "/"})
    assert "?v=" in page["direct_response"]["body"]["inline_string"]
