"""index.html as the edge serves it: every file it loads named by a versioned URL (`?v=` and the file's hash).

A slow mobile link pays for round trips, not bytes: revalidating the client's ~50 modules costs ~9 round trips
even when each answer is a 304 (a browser opens 6 connections per host). A versioned URL never changes
content, so the browser may keep it for a year without asking; only the page itself is revalidated. The
modules import each other by plain relative paths ("./api.js"), so the page's import map maps each module's
plain URL to its versioned one: the browser applies it to every import, static or dynamic. web/index.html
stays as written; the served copy is derived from it when the edge config is generated (finding P3).
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

VERSION_PARAMETER = "v"
IMPORT_MAP = re.compile(r'(<script type="importmap">)(.*?)(</script>)', re.DOTALL)
ATTRIBUTE_URL = re.compile(r'\b(href|src)="(/[^"?#]+)"')
MODULE_SUFFIXES = (".js", ".mjs")


def file_digest(file: Path) -> str:
    """A prefix of the SHA-256 of the file's bytes: enough to tell two versions apart."""
    return hashlib.sha256(file.read_bytes()).hexdigest()[:20]


def versioned_urls(source: Path, files: list[str]) -> dict[str, str]:
    """ "/js/api.js" → "/js/api.js?v=<hash>", for each of `files` (relative to `source`)."""
    return {f"/{relative}": f"/{relative}?{VERSION_PARAMETER}={file_digest(source / relative)}" for relative in files}


def versioned_index(index_html: str, versions: dict[str, str]) -> str:
    """The page with its links, scripts and import map pointing at versioned URLs, every module mapped."""
    match = IMPORT_MAP.search(index_html)
    if match is None:
        raise ValueError("index.html has no import map")
    imports = json.loads(match.group(2))["imports"]
    imports = {name: versions.get(url, url) for name, url in imports.items()}
    imports |= {url: versioned for url, versioned in versions.items() if url.endswith(MODULE_SUFFIXES)}
    import_map = json.dumps({"imports": imports}, indent=1, sort_keys=True)
    page = index_html[: match.start(2)] + import_map + index_html[match.end(2) :]
    return ATTRIBUTE_URL.sub(lambda found: f'{found[1]}="{versions.get(found[2], found[2])}"', page)
