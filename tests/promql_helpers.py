"""Reading PromQL without a Prometheus: the series an expression selects (parsed by promql-parser), shared by the
tests that check the alert rules and the dashboard against what the services and Envoy export."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import promql_parser
import yaml

ROOT = Path(__file__).resolve().parents[1]
ALERTS_FILE = ROOT / "deploy" / "prometheus" / "alerts.yml"
DASHBOARD_FILE = ROOT / "deploy" / "grafana" / "dashboards" / "athenaeum-mesh.json"
TARGET_LABELS = frozenset({"service", "job", "instance", "namespace", "pod"})
"""Labels the scrape adds (compose's static configs, the ServiceMonitor), not the exporters."""


@dataclass(frozen=True)
class Selector:
    metric: str
    equal: dict[str, str]
    """Label = value matchers."""
    labels: frozenset[str]
    """Every label a matcher names, whatever its operator."""


def selectors(expr: str) -> list[Selector]:
    """Every series selector of a PromQL expression (raises ValueError when it does not parse)."""
    found: list[Selector] = []

    def visit(node: Any) -> bool:
        if isinstance(node, promql_parser.VectorSelector):
            matchers = node.matchers.matchers
            equal = {m.name: m.value for m in matchers if m.op == promql_parser.MatchOp.Equal}
            found.append(Selector(node.name, equal, frozenset(m.name for m in matchers)))
        return True

    promql_parser.walk(promql_parser.parse(expr), visit)
    return found


def alert_rules() -> list[dict[str, Any]]:
    """Every rule of deploy/prometheus/alerts.yml."""
    groups = yaml.safe_load(ALERTS_FILE.read_text())["groups"]
    return [rule for group in groups for rule in group["rules"]]


def dashboard_expressions() -> list[str]:
    """The Grafana dashboard's queries as Prometheus reads them once Grafana has put its variables in."""
    panels = json.loads(DASHBOARD_FILE.read_text())["panels"]
    queries = [target["expr"] for panel in panels for target in panel.get("targets", [])]
    return [expr.replace("$__rate_interval", "5m").replace("$service", ".*") for expr in queries]
