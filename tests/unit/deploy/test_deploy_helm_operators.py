"""What an operator installing the chart relies on without reading the templates: passwords a GitOps render keeps,
the edge behind an Ingress seeing each client's own address, reset links to the host readers reach, a NATS
cluster a node drain cannot break, and values that would be silently wrong refused at install."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import helm_python
import pytest
import yaml
from chart_helpers import CHART, PRODUCTION, find, manifests, pod_specs, render, validate_all

from services.support.mesh import envoy_heap, registry

ROOT = Path(__file__).resolve().parents[3]
GITOPS = {
    "postgresql": {"auth": {"existingSecret": "library-pg-admin", "rolesExistingSecret": "library-pg-roles"}},
    "nats": {"auth": {"existingSecret": "library-nats"}},
}
NATS_CLUSTER = {"nats": {"replicas": 3, "jetstreamReplicas": 3}}


def _edge_config(docs: list[dict[str, Any]]) -> dict[str, Any]:
    return yaml.safe_load(find(docs, "ConfigMap", "athenaeum-envoy")["data"]["edge.yaml"])


def _trusted_hops(docs: list[dict[str, Any]]) -> set[int]:
    listeners = _edge_config(docs)["static_resources"]["listeners"]
    managers = [
        f["typed_config"] for listener in listeners for chain in listener["filter_chains"] for f in chain["filters"]
    ]
    return {manager["xff_num_trusted_hops"] for manager in managers if "xff_num_trusted_hops" in manager}


def _env(docs: list[dict[str, Any]], service: str) -> dict[str, str]:
    containers = find(docs, "Deployment", service)["spec"]["template"]["spec"]["containers"]
    return {e["name"]: e.get("value", "") for e in containers[0]["env"]}


# F1: GitOps renders ------------------------------------------------------------------------------------------


def test_given_its_secrets_a_gitops_render_is_the_same_every_time_and_makes_no_password() -> None:
    first, second = render(GITOPS), render(GITOPS)
    assert first == second
    assert not [doc for doc in manifests(first) if doc["kind"] == "Secret"]


def test_every_password_secret_the_chart_makes_outlives_uninstall() -> None:
    secrets = [doc for doc in manifests(render()) if doc["kind"] == "Secret"]
    assert {doc["metadata"]["name"] for doc in secrets} == {
        "athenaeum-nats",
        "athenaeum-postgresql",
        "athenaeum-postgresql-roles",
    }
    assert all(doc["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep" for doc in secrets)


def test_readme_and_notes_name_every_secret_a_gitops_render_needs() -> None:
    readme = " ".join((ROOT / "README.md").read_text().split())
    paragraph = readme[readme.index("Deployments rendered with `helm template`") :][:600]
    notes = render()["athenaeum/templates/NOTES.txt"]
    for value in ("postgresql.auth.existingSecret", "postgresql.auth.rolesExistingSecret", "nats.auth.existingSecret"):
        assert value in paragraph and value in notes
    assert "helm template" not in render(GITOPS)["athenaeum/templates/NOTES.txt"]


# F2: the client address behind an Ingress ---------------------------------------------------------------------


def test_the_generated_edge_config_has_one_trusted_hops_setting_for_the_chart_to_set() -> None:
    generated = (CHART / "files/envoy/edge.yaml").read_text()
    assert len(re.findall(r"(?m)^ +xff_num_trusted_hops: \d+$", generated)) == 1


def test_trusted_proxy_hops_reach_the_edge_config_and_roll_the_edge() -> None:
    default, behind = manifests(render()), manifests(render({"edge": {"trustedProxyHops": 1}}))
    assert _trusted_hops(default) == {registry.EDGE_TRUSTED_PROXY_HOPS}
    assert _trusted_hops(behind) == {1}
    checksum = [find(d, "Deployment", "edge")["spec"]["template"]["metadata"]["annotations"]["checksum/envoy"]
                for d in (default, behind)]  # fmt: skip
    assert checksum[0] != checksum[1]
    assert _trusted_hops(manifests(render({"edge": {"trustedProxyHops": 0}}))) == {0}


def test_the_production_example_behind_its_ingress_trusts_the_ingress() -> None:
    assert PRODUCTION["edge"]["ingress"]["enabled"]
    assert _trusted_hops(manifests(render(PRODUCTION))) == {1}
    assert "WARNING" not in render(PRODUCTION)["athenaeum/templates/NOTES.txt"]


def test_the_notes_warn_about_an_ingress_in_front_of_an_edge_that_trusts_no_proxy() -> None:
    notes = render({"edge": {"ingress": {"enabled": True, "host": "library.example.net"}}})
    assert "edge.trustedProxyHops=1" in notes["athenaeum/templates/NOTES.txt"]


def test_a_negative_or_textual_hop_count_is_refused() -> None:
    for hops in (-1, "1"):
        with pytest.raises(helm_python.HelmError, match="trustedProxyHops"):
            render({"edge": {"trustedProxyHops": hops}})


# The edge's heap budget follows its memory limit -------------------------------------------------------------


def _heap_budget(docs: list[dict[str, Any]]) -> int:
    (heap,) = [m for m in _edge_config(docs)["overload_manager"]["resource_monitors"] if "heap" in m["name"]]
    return int(heap["typed_config"]["max_heap_size_bytes"])


def test_by_default_the_edge_s_heap_budget_is_the_generated_one_for_the_chart_s_memory_limit() -> None:
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    assert values["edge"]["resources"]["limits"]["memory"] == f"{envoy_heap.EDGE_MEMORY_BYTES // envoy_heap.MiB}Mi"
    assert _heap_budget(manifests(render())) == envoy_heap.EDGE_HEAP_BUDGET_BYTES


def test_the_edge_s_heap_budget_follows_its_memory_limit_and_rolls_the_edge() -> None:
    for limit, memory in (("512Mi", 512 << 20), ("1Gi", 1 << 30), ("600M", 600_000_000), (300_000_000, 300_000_000)):
        docs = manifests(render({"edge": {"resources": {"limits": {"memory": limit}}}}))
        assert _heap_budget(docs) == envoy_heap.heap_budget(memory), limit
    default, larger = (find(manifests(render(v)), "Deployment", "edge")["spec"]["template"]["metadata"]["annotations"]
                       for v in (None, {"edge": {"resources": {"limits": {"memory": "1Gi"}}}}))  # fmt: skip
    assert default["checksum/envoy"] != larger["checksum/envoy"]


def test_an_edge_without_a_memory_limit_keeps_the_generated_budget_and_an_unreadable_limit_is_refused() -> None:
    unlimited = manifests(render({"edge": {"resources": {"limits": None}}}))
    assert _heap_budget(unlimited) == envoy_heap.EDGE_HEAP_BUDGET_BYTES
    with pytest.raises(helm_python.HelmError, match=r"edge\.resources\.limits\.memory"):
        render({"edge": {"resources": {"limits": {"memory": "0.5Gi"}}}})


# F5: the links in mails ----------------------------------------------------------------------------------------


def test_reset_links_point_at_the_ingress_host_unless_given() -> None:
    assert _env(manifests(render(PRODUCTION)), "notifications")["ATHENAEUM_WEB_URL"] == "https://library.example.com"
    plain = {"edge": {"ingress": {"enabled": True, "host": "books.example.net"}}}
    assert _env(manifests(render(plain)), "notifications")["ATHENAEUM_WEB_URL"] == "http://books.example.net"
    given = {**PRODUCTION, "library": {"timeZone": "UTC", "webUrl": "https://catalogue.example.org"}}
    assert _env(manifests(render(given)), "notifications")["ATHENAEUM_WEB_URL"] == "https://catalogue.example.org"
    assert _env(manifests(render()), "notifications")["ATHENAEUM_WEB_URL"] == "http://localhost:8080"
    assert "link to https://library.example.com" in render(PRODUCTION)["athenaeum/templates/NOTES.txt"]


def test_a_web_url_without_a_scheme_is_refused() -> None:
    with pytest.raises(helm_python.HelmError, match="webUrl"):
        render({"library": {"timeZone": "UTC", "webUrl": "library.example.org"}})


# F14: the bundled NATS cluster ---------------------------------------------------------------------------------


def test_a_nats_cluster_loses_one_server_at_a_time_to_a_drain_and_spreads_over_nodes() -> None:
    docs = manifests(render(NATS_CLUSTER))
    validate_all(docs)
    assert find(docs, "PodDisruptionBudget", "athenaeum-nats")["spec"]["maxUnavailable"] == 1
    affinity = pod_specs(docs)["athenaeum-nats"]["spec"]["affinity"]["podAntiAffinity"]
    (term,) = affinity["preferredDuringSchedulingIgnoredDuringExecution"]
    assert term["podAffinityTerm"]["topologyKey"] == "kubernetes.io/hostname"
    assert term["podAffinityTerm"]["labelSelector"]["matchLabels"]["app.kubernetes.io/component"] == "nats"


def test_a_single_nats_server_gets_no_budget_and_the_operators_affinity_wins() -> None:
    single = manifests(render())
    assert not [d for d in single if d["kind"] == "PodDisruptionBudget" and d["metadata"]["name"] == "athenaeum-nats"]
    zone = {"nodeAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": []}}
    docs = manifests(render({**NATS_CLUSTER, "affinity": zone}))
    assert pod_specs(docs)["athenaeum-nats"]["spec"]["affinity"] == zone


def test_more_stream_replicas_than_bundled_nats_servers_are_refused() -> None:
    with pytest.raises(helm_python.HelmError, match="jetstreamReplicas"):
        render({"nats": {"jetstreamReplicas": 3}})
    render({"nats": {"bundled": False, "url": "nats://nats.messaging:4222", "jetstreamReplicas": 3}})


# F11: values that would be silently wrong ----------------------------------------------------------------------


def test_a_misspelt_service_under_service_overrides_is_refused() -> None:
    with pytest.raises(helm_python.HelmError, match=re.escape("serviceOverrides.catalogue: no such service")):
        render({"serviceOverrides": {"catalogue": {"replicas": 3}}})


def _chart_set_names() -> set[str]:
    """Every setting the chart gives a service container itself in the default install (not from `env`)."""
    docs = manifests(render())
    given = set(yaml.safe_load((CHART / "values.yaml").read_text())["serviceOverrides"]["notifications"]["env"])
    return {name for spec in registry.SERVICES for name in _env(docs, spec.name)} - given


@pytest.mark.parametrize("name", sorted(_chart_set_names()))
def test_a_service_env_may_not_give_again_what_the_chart_sets(name: str) -> None:
    with pytest.raises(helm_python.HelmError, match=re.escape(name)):
        render({"serviceDefaults": {"env": {name: "x"}}})


def test_a_library_setting_in_one_services_env_is_refused_pointing_at_the_library_value() -> None:
    values = {"serviceOverrides": {"users": {"env": {"ATHENAEUM_LIBRARY_TIME_ZONE": "Europe/Moscow"}}}}
    with pytest.raises(helm_python.HelmError, match=r"users\.env\.ATHENAEUM_LIBRARY_TIME_ZONE.*library\.timeZone"):
        render(values)
