"""The compose project's observability stack: Jaeger (traces), Prometheus (its scrape config, generated from
the registry, and the alert rules) and Grafana (the dashboard), for compose.py."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from services.support.mesh import edge_tls, registry
from services.support.mesh.topology import CONTAINER_METRICS_PORT, CONTAINER_OPS_PORT

PROMETHEUS_FILE = Path("deploy/prometheus/prometheus.yml")
DASHBOARD_FILE = Path("deploy/grafana/dashboards/athenaeum-mesh.json")
ALERTS_FILE = Path("deploy/prometheus/alerts.yml")
PROMETHEUS_RULES = "/etc/prometheus/alerts.yml"


def observability_services() -> dict[str, Any]:
    """Jaeger, Prometheus and Grafana, as compose services."""
    return {
        "jaeger": {
            "image": "jaegertracing/jaeger:2.8.0",
            "ports": ["${JAEGER_UI_PORT:-127.0.0.1:16686}:16686"],
            "restart": "unless-stopped",
        },
        "prometheus": {
            "image": "prom/prometheus:v3.4.2",
            "command": ["--config.file=/etc/prometheus/prometheus.yml", "--storage.tsdb.path=/prometheus"],
            "volumes": [
                f"./{PROMETHEUS_FILE}:/etc/prometheus/prometheus.yml:ro",
                f"./{ALERTS_FILE}:{PROMETHEUS_RULES}:ro",
                "prometheus-data:/prometheus",
            ],
            "ports": ["${PROMETHEUS_PORT:-127.0.0.1:9090}:9090"],
            "restart": "unless-stopped",
        },
        "grafana": {
            "image": "grafana/grafana:12.0.2",
            "environment": {"GF_AUTH_ANONYMOUS_ENABLED": "true", "GF_AUTH_ANONYMOUS_ORG_ROLE": "Viewer"},
            "volumes": [
                "./deploy/grafana/provisioning:/etc/grafana/provisioning:ro",
                "./deploy/grafana/dashboards:/var/lib/grafana/dashboards:ro",
                "grafana-data:/var/lib/grafana",
            ],
            "ports": ["${GRAFANA_PORT:-127.0.0.1:3000}:3000"],
            "depends_on": ["prometheus"],
            "restart": "unless-stopped",
        },
    }


def prometheus_config() -> dict[str, Any]:
    """Scrape every service's /metrics and every Envoy's stats (through its operations listener); load the alerts."""
    envoys = [*(spec.name for spec in registry.SERVICES), registry.EDGE]
    return {
        "global": {"scrape_interval": "15s", "evaluation_interval": "15s"},
        "rule_files": [PROMETHEUS_RULES],
        "scrape_configs": [
            {
                "job_name": "athenaeum",
                "static_configs": [
                    {"targets": [f"{spec.name}:{CONTAINER_METRICS_PORT}"], "labels": {"service": spec.name}}
                    for spec in registry.SERVICES
                ],
            },
            {
                "job_name": "envoy",
                "metrics_path": "/stats/prometheus",
                "static_configs": [
                    {"targets": [f"{name}:{CONTAINER_OPS_PORT}"], "labels": {"service": name}} for name in envoys
                ],
            },
            {
                # The TLS front runs only with its profile: found by DNS, so no target is down without it.
                "job_name": "envoy-tls-front",
                "metrics_path": "/stats/prometheus",
                "dns_sd_configs": [{"names": [edge_tls.SERVICE], "type": "A", "port": CONTAINER_OPS_PORT}],
                "relabel_configs": [{"target_label": "service", "replacement": edge_tls.SERVICE}],
            },
        ],
    }
