"""A running service's /metrics shows the RPC just made through the edge, its pool, outbox and collector's pauses."""

from __future__ import annotations

import re
import uuid

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from promql_helpers import TARGET_LABELS, alert_rules, dashboard_expressions, selectors

from services.support.mesh import registry

pytestmark = pytest.mark.e2e

GET_BOOK = (("grpc_method", "GetBook"), ("grpc_service", "athenaeum.catalog.v1.CatalogService"), ("grpc_type", "unary"))


def scrape(url: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a Prometheus text page, by (name, sorted labels)."""
    text = httpx.get(url, timeout=10).text
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


SERIES = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? ")
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def exposed_series(text: str) -> list[tuple[str, dict[str, str]]]:
    """Series as Prometheus stores them: names as exposed (prometheus_client's parser would add `_total` to an
    Envoy counter that has none)."""
    found = []
    for line in text.splitlines():
        if match := SERIES.match(line):
            found.append((match.group(1), dict(LABEL.findall(match.group(2) or ""))))
    return found


def not_found_count(samples: dict) -> float:
    """GetBook calls answered NOT_FOUND, labelled as go-grpc-prometheus does (what gRPC dashboards query)."""
    return samples.get(("grpc_server_handled_total", (("grpc_code", "NotFound"), *GET_BOOK)), 0.0)


def test_the_catalog_metrics_count_the_rpc_just_made_through_the_edge(mesh) -> None:
    metrics_url = f"http://127.0.0.1:{mesh.topology.placement('catalog').metrics_port}/metrics"
    scraped = scrape(metrics_url)
    before = not_found_count(scraped)
    book_misses = (("cache", "books"), ("result", "miss"))
    misses_before = scraped.get(("athenaeum_cache_lookups_total", book_misses), 0.0)

    response = httpx.get(f"{mesh.edge_url}/v1/books/{uuid.uuid4()}", timeout=10)
    after = scrape(metrics_url)

    assert response.status_code == 404
    assert not_found_count(after) == before + 1
    assert after[("grpc_server_handling_seconds_count", GET_BOOK)] >= 1
    assert after[("grpc_server_started_total", GET_BOOK)] >= not_found_count(after)
    assert after[("athenaeum_db_pool_size", (("database", "athenaeum_catalog"),))] > 0
    assert ("athenaeum_db_pool_connections", (("database", "athenaeum_catalog"), ("state", "checked_out"))) in after
    assert ("athenaeum_outbox_backlog", ()) in after
    assert after[("athenaeum_cache_lookups_total", book_misses)] == misses_before + 1  # GetBook's cache
    assert ("athenaeum_cache_lookups_total", (("cache", "searches"), ("result", "hit"))) in after
    assert after[("athenaeum_gc_pause_seconds_count", (("generation", "2"),))] >= 1  # start-up's, before freezing


def test_envoy_stats_are_there_for_prometheus(mesh) -> None:
    admin = mesh.topology.placement("catalog").admin_port
    samples = scrape(f"http://127.0.0.1:{admin}/stats/prometheus")

    assert any(name == "envoy_cluster_upstream_rq_total" for name, _ in samples)


def test_every_series_the_alerts_and_the_dashboard_name_is_exported_with_the_labels_they_match(mesh) -> None:
    """What the live services and Envoys export, against every selector of the alert rules and the dashboard."""
    httpx.get(f"{mesh.edge_url}/v1/books/{uuid.uuid4()}", timeout=10)  # at least one RPC has been counted
    placements = [mesh.topology.placement(spec.name) for spec in registry.SERVICES]
    pages = [f"http://127.0.0.1:{p.metrics_port}/metrics" for p in placements]
    pages += [f"http://127.0.0.1:{p.admin_port}/stats/prometheus" for p in placements]
    pages.append(f"{mesh.edge_admin_url}/stats/prometheus")
    samples: dict[str, list[dict[str, str]]] = {}
    for page in pages:
        for name, labels in exposed_series(httpx.get(page, timeout=10).text):
            samples.setdefault(name, []).append(labels)

    wanted = [
        selector
        for expr in [*(rule["expr"] for rule in alert_rules()), *dashboard_expressions()]
        for selector in selectors(expr)
    ]
    for selector in wanted:
        if not selector.metric.startswith("envoy_") and selector.metric not in samples:
            continue  # a labelled series of ours appears with its first event (checked registered in tests/unit)
        series = samples.get(selector.metric, [])
        assert series, f"no Envoy exports {selector.metric}"
        own = selector.equal.items() - {(k, v) for k, v in selector.equal.items() if k in TARGET_LABELS}
        assert any(own <= labels.items() for labels in series), f"{selector.metric} has no series {dict(own)}"
        known = set().union(*(labels.keys() for labels in series)) | TARGET_LABELS
        assert selector.labels <= known, f"{selector.metric} has no label {selector.labels - known}"
