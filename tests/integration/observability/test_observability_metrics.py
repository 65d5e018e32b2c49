"""A running service's /metrics shows the RPC just made through the edge, and its pool and outbox."""

from __future__ import annotations

import uuid

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

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


def not_found_count(samples: dict) -> float:
    """GetBook calls answered NOT_FOUND, labelled as go-grpc-prometheus does (what gRPC dashboards query)."""
    return samples.get(("grpc_server_handled_total", (("grpc_code", "NotFound"), *GET_BOOK)), 0.0)


def test_the_catalog_metrics_count_the_rpc_just_made_through_the_edge(mesh) -> None:
    metrics_url = f"http://127.0.0.1:{mesh.topology.placement('catalog').metrics_port}/metrics"
    before = not_found_count(scrape(metrics_url))

    response = httpx.get(f"{mesh.edge_url}/v1/books/{uuid.uuid4()}", timeout=10)
    after = scrape(metrics_url)

    assert response.status_code == 404
    assert not_found_count(after) == before + 1
    assert after[("grpc_server_handling_seconds_count", GET_BOOK)] >= 1
    assert after[("grpc_server_started_total", GET_BOOK)] >= not_found_count(after)
    assert after[("athenaeum_db_pool_size", (("database", "athenaeum_catalog"),))] > 0
    assert ("athenaeum_db_pool_connections", (("database", "athenaeum_catalog"), ("state", "checked_out"))) in after
    assert ("athenaeum_outbox_backlog", ()) in after


def test_envoy_stats_are_there_for_prometheus(mesh) -> None:
    admin = mesh.topology.placement("catalog").admin_port
    samples = scrape(f"http://127.0.0.1:{admin}/stats/prometheus")

    assert any(name == "envoy_cluster_upstream_rq_total" for name, _ in samples)
