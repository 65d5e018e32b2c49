"""Rendering the Helm chart offline and finding what it renders, for the chart's tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import kubernetes_validate
import yaml
from helm_python import Chart

ROOT = Path(__file__).resolve().parents[3]
CHART = ROOT / "helm" / "athenaeum"
PRODUCTION = yaml.safe_load((CHART / "values-production.yaml").read_text())
OPENSHIFT = yaml.safe_load((CHART / "values-openshift.yaml").read_text())
KUBE_VERSIONS = ("1.30.0", "1.33.0")
CRD_KINDS = {"Certificate", "Issuer", "ServiceMonitor", "PrometheusRule"}
"""cert-manager's and the Prometheus Operator's kinds: no bundled schema to validate them against."""


def render(values: dict[str, Any] | None = None, *, revision: int | None = None) -> dict[str, str]:
    with Chart.load(str(CHART)) as chart:
        return chart.render(values, name="athenaeum", namespace="library", revision=revision)


def manifests(rendered: dict[str, str]) -> list[dict[str, Any]]:
    documents: Iterator[Any] = (
        doc for name, text in rendered.items() if name.endswith(".yaml") for doc in yaml.safe_load_all(text)
    )
    return [doc for doc in documents if doc]


def find(docs: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    matches = [doc for doc in docs if doc["kind"] == kind and doc["metadata"]["name"] == name]
    assert len(matches) == 1, f"{kind}/{name}: {len(matches)} found"
    return matches[0]


def pod_specs(docs: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The pod template of every workload (Deployment, StatefulSet, Job), by workload name."""
    kinds = ("Deployment", "StatefulSet", "Job")
    return {doc["metadata"]["name"]: doc["spec"]["template"] for doc in docs if doc["kind"] in kinds}


def validate_all(docs: list[dict[str, Any]], kube_version: str = KUBE_VERSIONS[0]) -> None:
    """Every manifest against the Kubernetes schemas (strict: an unknown field fails)."""
    for doc in docs:
        if doc["kind"] not in CRD_KINDS:
            kubernetes_validate.validate(doc, kube_version, strict=True)
