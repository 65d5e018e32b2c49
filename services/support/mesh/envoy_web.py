"""The web client at the edge: its static files, gzip-compressed, and its refresh-token cookie.

The files under web/ are served by the edge Envoy itself: one route per file whose direct response is
the file (Envoy reads it once at start-up and answers from memory), so the mesh needs no extra process,
no CDN and no network beyond itself. Each file carries its content hash as ETag, and a second route per
file answers a browser that already holds that version with 304, so a returning visitor downloads
nothing again (Envoy computes no validator for a direct response; the hash is taken when the config is
written, from the same files, which is why `generate --check` sees a changed web file).
The compressor filter is off by default and switched on only on these routes, so API responses are
never touched. The Lua filter (web_session.lua) keeps the web client's refresh token in an HttpOnly
cookie; it acts only on auth requests that opt in.
"""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path

from services.support.mesh.envoy_common import Config
from services.support.mesh.topology import Topology
from services.support.mesh.web_versions import VERSION_PARAMETER, file_digest, versioned_index, versioned_urls

WEB_SOURCE = Path(__file__).resolve().parents[3] / "web"
SESSION_SCRIPT = Path(__file__).with_name("web_session.lua")
INDEX = "index.html"

CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "application/javascript; charset=utf-8",
    ".mjs": "application/javascript; charset=utf-8",
    ".svg": "image/svg+xml",
}
MAX_FILE_BYTES = 512 * 1024
"""Envoy refuses a direct response larger than the route config allows (4 KiB unless raised)."""
COMPRESS_ABOVE_BYTES = 256
# Kept, but revalidated on every use: the page names the versions of everything else, and a 304 costs no body.
CACHE_CONTROL = "no-cache"
# What a versioned URL (…?v=<hash>) gets: its content never changes.
IMMUTABLE = "public, max-age=31536000, immutable"

COMPRESSOR = "envoy.filters.http.compressor"
TRANSCODER = "envoy.filters.http.grpc_json_transcoder"
SESSION_FILTER = "envoy.filters.http.lua"
COMPRESSOR_TYPE = "type.googleapis.com/envoy.extensions.filters.http.compressor.v3.Compressor"
COMPRESSOR_PER_ROUTE_TYPE = "type.googleapis.com/envoy.extensions.filters.http.compressor.v3.CompressorPerRoute"
GZIP_TYPE = "type.googleapis.com/envoy.extensions.compression.gzip.compressor.v3.Gzip"
LUA_TYPE = "type.googleapis.com/envoy.extensions.filters.http.lua.v3.Lua"
FILTER_CONFIG_TYPE = "type.googleapis.com/envoy.config.route.v3.FilterConfig"

_IMPORT_MAP = re.compile(r'<script type="importmap">(.*?)</script>', re.DOTALL)


def web_files(source: Path = WEB_SOURCE) -> list[str]:
    """Paths (relative, "/"-separated) of the files the edge serves, in a stable order."""
    if not source.is_dir():
        return []
    return sorted(
        path.relative_to(source).as_posix()
        for path in source.rglob("*")
        if path.is_file() and path.suffix in CONTENT_TYPES
    )


def add_web_client(hcm: Config, topology: Topology) -> None:
    """Serve the web client from the edge's HTTP connection manager `hcm` (when the topology has one)."""
    if topology.web_root is None:
        return
    manager = hcm["typed_config"]
    route_config = manager["route_config"]
    route_config["max_direct_response_body_size_bytes"] = MAX_FILE_BYTES
    (virtual_host,) = route_config["virtual_hosts"]
    virtual_host["routes"] = [*web_routes(topology.web_root), *virtual_host["routes"]]
    filters = manager["http_filters"]
    # The session filter must see the REST request before the transcoder turns it into gRPC (and the
    # JSON response after); the compressor goes first so that it compresses last.
    transcoder_at = next(index for index, item in enumerate(filters) if item["name"] == TRANSCODER)
    filters.insert(transcoder_at, session_cookie_filter())
    filters.insert(0, compressor_filter())


def web_routes(web_root: Path, source: Path = WEB_SOURCE) -> list[Config]:
    """Exact-path routes per file (and "/" for index.html): the page itself, derived with versioned URLs
    (web_versions.py) and revalidated on every visit; any other file from disk, kept a year when asked for by
    its versioned URL, else revalidated against its hash."""
    files = web_files(source)
    if INDEX not in files:
        return []
    versions = versioned_urls(source, [relative for relative in files if relative != INDEX])
    page = versioned_index((source / INDEX).read_text(encoding="utf-8"), versions)
    page_tag = 'W/"' + hashlib.sha256(page.encode("utf-8")).hexdigest()[:20] + '"'
    page_headers = _headers_for(INDEX, page) | {"etag": page_tag}
    routes = []
    for path in ("/", f"/{INDEX}"):
        routes += [_not_modified_route(path, page_tag), _file_route(path, {"inline_string": page}, page_headers)]
    for relative in files:
        if relative == INDEX:
            continue
        path, body, tag = f"/{relative}", {"filename": str(web_root / relative)}, entity_tag(source / relative)
        headers = _headers_for(relative) | {"etag": tag}
        routes += [
            _file_route(path, body, headers | {"cache-control": IMMUTABLE}, versioned=True),
            _not_modified_route(path, tag),
            _file_route(path, body, headers),
        ]
    return routes


def entity_tag(file: Path) -> str:
    """A validator for the file's bytes, weak because Envoy's compressor removes a strong one from what it
    compresses (gzip's bytes are not the file's); a weak tag is enough for a 304."""
    return f'W/"{file_digest(file)}"'


def _not_modified_route(path: str, tag: str) -> Config:
    """304 for a browser whose cached copy has this tag (matched on its quoted part, as a browser may list
    several tags in If-None-Match)."""
    return {
        "match": {"path": path, "headers": [{"name": "if-none-match", "string_match": {"contains": tag[2:]}}]},
        "direct_response": {"status": 304},
        "response_headers_to_add": [
            {"header": {"key": key, "value": value}, "append_action": "OVERWRITE_IF_EXISTS_OR_ADD"}
            for key, value in {"etag": tag, "cache-control": CACHE_CONTROL}.items()
        ],
        "typed_per_filter_config": {TRANSCODER: {"@type": FILTER_CONFIG_TYPE, "disabled": True}},
    }


def _file_route(path: str, body: Config, headers: dict[str, str], *, versioned: bool = False) -> Config:
    match: Config = {"path": path}  # Envoy matches the path without its query
    if versioned:
        match["query_parameters"] = [{"name": VERSION_PARAMETER, "present_match": True}]
    return {
        "match": match,
        "direct_response": {"status": 200, "body": body},
        "response_headers_to_add": [
            {"header": {"key": key, "value": value}, "append_action": "OVERWRITE_IF_EXISTS_OR_ADD"}
            for key, value in headers.items()
        ],
        "typed_per_filter_config": {
            # Not an API call: the transcoder would refuse the path as an unknown method.
            TRANSCODER: {"@type": FILTER_CONFIG_TYPE, "disabled": True},
            COMPRESSOR: {
                "@type": FILTER_CONFIG_TYPE,
                "config": {"@type": COMPRESSOR_PER_ROUTE_TYPE, "overrides": {"response_direction_config": {}}},
            },
        },
    }


def _headers_for(relative: str, page: str | None = None) -> dict[str, str]:
    headers = {
        "content-type": CONTENT_TYPES[Path(relative).suffix],
        "cache-control": CACHE_CONTROL,
        "x-content-type-options": "nosniff",
    }
    if page is not None:
        headers["content-security-policy"] = content_security_policy(page)
        headers["referrer-policy"] = "same-origin"
    return headers


def content_security_policy(index_html: str) -> str:
    """Same-origin everything; the only inline script allowed is the page's import map, by its hash."""
    hashes = [
        "'sha256-" + base64.b64encode(hashlib.sha256(body.encode("utf-8")).digest()).decode("ascii") + "'"
        for body in _IMPORT_MAP.findall(index_html)
    ]
    return "; ".join(
        [
            "default-src 'self'",
            " ".join(["script-src 'self'", *hashes]),
            "style-src 'self'",
            "img-src 'self' data:",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "frame-ancestors 'none'",
            "form-action 'self'",
        ]
    )


def compressor_filter() -> Config:
    """gzip, off unless a route turns it on (only the web client's routes do)."""
    return {
        "name": COMPRESSOR,
        "disabled": True,
        "typed_config": {
            "@type": COMPRESSOR_TYPE,
            "response_direction_config": {"common_config": {"min_content_length": COMPRESS_ABOVE_BYTES}},
            "compressor_library": {
                "name": "gzip",
                "typed_config": {"@type": GZIP_TYPE, "compression_level": "BEST_COMPRESSION"},
            },
        },
    }


def session_cookie_filter() -> Config:
    """Moves the web client's refresh token between the JSON body and an HttpOnly cookie."""
    return {
        "name": SESSION_FILTER,
        "typed_config": {
            "@type": LUA_TYPE,
            "default_source_code": {"inline_string": SESSION_SCRIPT.read_text(encoding="utf-8")},
        },
    }
