"""The Prometheus alert rules (deploy/prometheus/alerts.yml): well formed, valid PromQL, on series the services
export (Envoy's are checked against live Envoys in tests/integration/observability), loaded by compose's
Prometheus and carried by the chart."""

from __future__ import annotations

import re

import pytest
import yaml
from prometheus_client import REGISTRY
from promql_helpers import ALERTS_FILE, alert_rules, selectors

import services.notifications.api.workers  # registers the channels' metrics
import services.support.runtime.telemetry  # noqa: F401  (registers the metrics)
from services.support.mesh import compose, compose_observability, registry

SUFFIXES = {"counter": ("_total",), "histogram": ("_bucket", "_count", "_sum"), "gauge": ("",)}
COVERED = {  # what the issue asks the alerts to watch, and the series that tell it
    "error rate": "grpc_server_handled_total",
    "latency": "grpc_server_handling_seconds_bucket",
    "consumer lag": "athenaeum_consumer_pending_messages",
    "outbox backlog": "athenaeum_outbox_backlog",
    "certificate expiry": "envoy_server_days_until_first_cert_expiring",
    "a process down": "up",
    "a consumer down": "athenaeum_consumer_up",
    "the mail server or SMS provider down": "athenaeum_notification_channel_up",
    "most notices failing": "athenaeum_notifications_total",
}
PROMETHEUS_OWN = {"up"}
"""Series Prometheus makes itself for every target it scrapes."""


def exported() -> set[str]:
    return {family.name + suffix for family in REGISTRY.collect() for suffix in SUFFIXES.get(family.type, ("",))}


@pytest.mark.parametrize("rule", alert_rules(), ids=lambda rule: rule["alert"])
def test_every_rule_is_valid_promql_with_a_severity_and_a_summary(rule: dict) -> None:
    assert re.fullmatch(r"Athenaeum[A-Z][A-Za-z]+", rule["alert"])
    assert selectors(rule["expr"]), "selects no series"
    assert rule["labels"]["severity"] in {"warning", "critical"}
    assert rule["annotations"]["summary"] and rule["annotations"]["description"]
    assert re.fullmatch(r"\d+[smh]", rule.get("for", "0s"))


def test_a_broken_expression_is_refused_by_the_parser() -> None:
    with pytest.raises(ValueError):
        selectors("sum(rate(grpc_server_handled_total[5m]) > ")


def test_every_series_the_rules_name_is_exported_by_the_services_or_is_envoys() -> None:
    named = {selector.metric for rule in alert_rules() for selector in selectors(rule["expr"])}
    ours = {name for name in named if not name.startswith("envoy_")} - PROMETHEUS_OWN
    assert ours <= exported(), ours - exported()
    assert set(COVERED.values()) <= named


def test_the_alert_names_are_unique() -> None:
    names = [rule["alert"] for rule in alert_rules()]
    assert len(names) == len(set(names))


def test_compose_prometheus_loads_the_rules_and_the_chart_carries_them() -> None:
    project = yaml.safe_load((ALERTS_FILE.parents[2] / compose.COMPOSE_FILE).read_text())
    mounts = project["services"]["prometheus"]["volumes"]
    assert f"./{compose_observability.ALERTS_FILE}:{compose_observability.PROMETHEUS_RULES}:ro" in mounts
    assert compose_observability.prometheus_config()["rule_files"] == [compose_observability.PROMETHEUS_RULES]
    chart_copy = ALERTS_FILE.parents[2] / "helm/athenaeum/files/prometheus" / ALERTS_FILE.name
    assert chart_copy.read_text() == ALERTS_FILE.read_text()


def test_a_workload_with_no_process_at_all_is_noticed_for_every_service_and_the_edge() -> None:
    """A service that never started exports nothing: no ratio, no `up == 0`; only absent() sees it."""
    (rule,) = [rule for rule in alert_rules() if rule["alert"] == "AthenaeumServiceAbsent"]
    watched = {selector.equal["service"] for selector in selectors(rule["expr"]) if selector.metric == "up"}
    assert watched == {spec.name for spec in registry.SERVICES} | {registry.EDGE}


@pytest.mark.parametrize("metric", ["up", "athenaeum_consumer_up", "athenaeum_notification_channel_up"])
def test_a_rule_fires_when_what_the_series_tells_of_is_down(metric: str) -> None:
    rules = [rule for rule in alert_rules() if metric in {s.metric for s in selectors(rule["expr"])}]
    assert any(re.search(r"== 0\s*$", rule["expr"]) and rule["labels"]["severity"] == "critical" for rule in rules)
