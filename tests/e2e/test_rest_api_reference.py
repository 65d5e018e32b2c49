"""The API reference served by the live edge, and the live edge held to it by schemathesis.

Every REST route is fuzzed with data generated from /openapi.json (a handful of cases each, so the whole
run stays within about half a minute on two cores), as a disposable admin so that the calls reach the
services instead of stopping at 401/403: no answer may be a server error, and every answer must have a
documented status, content type and schema.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from openapi_spec_validator import validate
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
CASES_PER_ROUTE = 10
NOT_YET_IMPLEMENTED = 501
"""notifications and events answer UNIMPLEMENTED until they are built: honest, not a crash."""


def test_the_edge_serves_the_generated_document(edge: httpx.Client) -> None:
    response = edge.get("/openapi.json")

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.content == (ROOT / "gen/docs/openapi.json").read_bytes()
    validate(response.json())


def test_the_docs_page_loads_swagger_ui_from_the_edge_itself(edge: httpx.Client) -> None:
    page = edge.get("/docs")
    bundle = edge.get("/docs/swagger-ui-bundle.js")
    styles = edge.get("/docs/swagger-ui.css")

    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert '<script src="/docs/swagger-ui-bundle.js">' in page.text and 'url: "/openapi.json"' in page.text
    assert "https://" not in page.text and "http://" not in page.text, "no CDN: every asset comes from the edge"
    assert bundle.status_code == 200 and bundle.headers["content-encoding"] == "gzip"
    assert "SwaggerUIBundle" in bundle.text  # httpx inflated it, as a browser does
    assert styles.status_code == 200 and ".swagger-ui" in styles.text


@pytest.mark.parametrize("path", ["/openapi.json", "/docs", "/docs/swagger-ui.css"])
def test_head_asks_for_a_docs_file_as_get_does_without_its_body(edge: httpx.Client, path: str) -> None:
    """Link checkers and uptime monitors ask with HEAD; the docs answered them 404."""
    got, head = edge.get(path), edge.head(path)
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-type"] == got.headers["content-type"]


def test_the_docs_are_read_only(edge: httpx.Client) -> None:
    response = edge.post("/openapi.json", content=b"{}")
    assert response.status_code == 404 and response.json()["code"] == 5


# Schemathesis ----------------------------------------------------------------------------------------------


def not_a_server_error(ctx, response, case) -> None:
    """Like schemathesis' own check, but UNIMPLEMENTED (501) is an answer, not a failure."""
    if response.status_code >= 500 and response.status_code != NOT_YET_IMPLEMENTED:
        raise AssertionError(f"server error {response.status_code}: {response.text[:500]}")


CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


def _routes() -> dict[str, schemathesis.schemas.APIOperation]:
    """The operations of the committed document (the one the edge serves, checked above), so the routes
    are known when tests are collected."""
    api = schemathesis.openapi.from_path(str(ROOT / "gen/docs/openapi.json"))
    return {operation.label: operation for operation in (result.ok() for result in api.get_all_operations())}


ROUTES = _routes()


@pytest.mark.parametrize("route", sorted(ROUTES))
def test_every_route_answers_as_documented_and_never_with_a_server_error(mesh, disposable_admin, route: str) -> None:
    """As an admin of its own: the calls reach the services, and whatever the fuzzer does to that account
    (even deactivating it) stays with it."""

    @settings(
        max_examples=CASES_PER_ROUTE,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=ROUTES[route].as_strategy())
    def call_and_check(case) -> None:
        response = case.call(base_url=mesh.edge_url, headers=disposable_admin.headers, timeout=30)
        case.validate_response(response, checks=CHECKS)

    call_and_check()
