"""The Grafana dashboard and Prometheus config in the repository match what the mesh exports."""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from typing import Any

import yaml
from prometheus_client import REGISTRY
from promql_helpers import dashboard_expressions, selectors

import services.support.runtime.telemetry  # noqa: F401  (registers the metrics)
from services.support.mesh import compose, compose_observability, registry

ROOT = Path(__file__).resolve().parents[3]
for _metrics in sorted((ROOT / "services").glob("*/data/metrics.py")):  # a service's own metrics
    importlib.import_module(f"services.{_metrics.parent.parent.name}.data.metrics")
DASHBOARD = json.loads((ROOT / compose_observability.DASHBOARD_FILE).read_text())
PROMQL_FUNCTIONS = {"sum", "rate", "histogram_quantile", "topk", "by", "le"}


SUFFIXES = {"counter": ("_total",), "histogram": ("_bucket", "_count", "_sum"), "gauge": ("",)}


def exported_metric_names() -> set[str]:
    """Series names the services' registry exports, whether or not a sample was recorded yet."""
    return {family.name + suffix for family in REGISTRY.collect() for suffix in SUFFIXES.get(family.type, ("",))}


def expressions(panels: list[dict[str, Any]]) -> list[str]:
    return [target["expr"] for panel in panels for target in panel.get("targets", [])]


def test_every_query_is_valid_promql_and_every_series_it_names_is_exported_or_envoys() -> None:
    exported = exported_metric_names()
    queried = {selector.metric for expr in dashboard_expressions() for selector in selectors(expr)}
    ours = {name for name in queried if not name.startswith("envoy_")}
    assert ours, "the dashboard queries no Athenaeum metric"
    assert ours <= exported, ours - exported


def test_the_dashboard_covers_red_pool_outbox_consumers_and_envoy() -> None:
    text = " ".join(expressions(DASHBOARD["panels"]))
    for metric in (
        "grpc_server_handled_total",
        "grpc_server_handling_seconds_bucket",
        "athenaeum_db_pool_connections",
        "athenaeum_outbox_backlog",
        "athenaeum_consumer_pending_messages",
        "envoy_cluster_upstream_rq_total",
        "athenaeum_events_stored_total",
        "athenaeum_events_copy_seconds_bucket",
    ):
        assert metric in text
    assert DASHBOARD["uid"] == "athenaeum-mesh"
    assert len({panel["id"] for panel in DASHBOARD["panels"]}) == len(DASHBOARD["panels"])


def test_prometheus_scrapes_every_service_and_every_envoy_by_service_label() -> None:
    config = yaml.safe_load((ROOT / compose_observability.PROMETHEUS_FILE).read_text())
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    labelled = {
        job: {c["labels"]["service"]: c["targets"] for c in jobs[job]["static_configs"]}
        for job in ("athenaeum", "envoy")
    }

    assert labelled["athenaeum"] == {spec.name: [f"{spec.name}:9464"] for spec in registry.SERVICES}
    assert set(labelled["envoy"]) == set(registry.identities())
    assert jobs["envoy"]["metrics_path"] == "/stats/prometheus"


def test_grafana_is_provisioned_with_prometheus_and_the_dashboard_folder() -> None:
    project = yaml.safe_load((ROOT / compose.COMPOSE_FILE).read_text())
    datasource = yaml.safe_load((ROOT / "deploy/grafana/provisioning/datasources/prometheus.yaml").read_text())
    provider = yaml.safe_load((ROOT / "deploy/grafana/provisioning/dashboards/athenaeum.yaml").read_text())

    assert datasource["datasources"][0]["url"] == "http://prometheus:9090" and "prometheus" in project["services"]
    mounted = {
        v.split(":")[1]
        for v in project["services"]["grafana"]["volumes"]
        if v.startswith("./deploy/grafana/dashboards")
    }
    assert provider["providers"][0]["options"]["path"] in mounted
