"""The API reference at the edge: `/openapi.json` and a Swagger UI page at `/docs`, served by Envoy itself.

Each file is an Envoy `direct_response` read from the docs folder when Envoy loads its config (no extra
process, no CDN). `athenaeum generate` writes the folder (gen/docs): the document, the page and the Swagger
UI bundle vendored from its PyPI wheel, gzipped (Envoy sends them compressed, as they are).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from services.support.mesh.envoy_common import Config

OPENAPI_PATH = "/openapi.json"
DOCS_PATH = "/docs"
MAX_DIRECT_RESPONSE_BYTES = 4 * 1024 * 1024
"""Envoy refuses direct-response files above 4 kB unless the route table raises the limit."""


@dataclass(frozen=True)
class DocsFile:
    """One file the edge serves from the docs folder."""

    url_paths: tuple[str, ...]
    filename: str
    content_type: str
    gzipped: bool = False


DOCS_FILES = (
    DocsFile((OPENAPI_PATH,), "openapi.json", "application/json"),
    DocsFile((DOCS_PATH, f"{DOCS_PATH}/"), "index.html", "text/html; charset=utf-8"),
    DocsFile((f"{DOCS_PATH}/swagger-ui-bundle.js",), "swagger-ui-bundle.js.gz", "text/javascript", gzipped=True),
    DocsFile((f"{DOCS_PATH}/swagger-ui.css",), "swagger-ui.css.gz", "text/css", gzipped=True),
    DocsFile((f"{DOCS_PATH}/favicon-32x32.png",), "favicon-32x32.png", "image/png"),
)


_GET_OR_HEAD = {"name": ":method", "string_match": {"safe_regex": {"regex": "GET|HEAD"}}}
"""HEAD as GET (Envoy sends the headers without the body): link checkers and monitors ask with HEAD."""


def docs_routes(docs_dir: Path) -> list[Config]:
    """Exact-path routes answering each docs file; they must come before the gRPC prefix routes."""
    routes = []
    for item in DOCS_FILES:
        headers = [("content-type", item.content_type), ("cache-control", "public, max-age=300")]
        if item.gzipped:
            headers.append(("content-encoding", "gzip"))
        for url_path in item.url_paths:
            routes.append(
                {
                    "match": {"path": url_path, "headers": [_GET_OR_HEAD]},
                    "direct_response": {"status": 200, "body": {"filename": str(docs_dir / item.filename)}},
                    "response_headers_to_add": [
                        {"header": {"key": key, "value": value}, "append_action": "OVERWRITE_IF_EXISTS_OR_ADD"}
                        for key, value in headers
                    ],
                    # The transcoder would refuse a path that maps to no RPC (reject_unknown_method).
                    "typed_per_filter_config": {
                        "envoy.filters.http.grpc_json_transcoder": {
                            "@type": "type.googleapis.com/envoy.config.route.v3.FilterConfig",
                            "disabled": True,
                        }
                    },
                }
            )
    return routes
