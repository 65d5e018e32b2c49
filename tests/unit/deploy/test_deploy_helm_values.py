"""The chart's values an operator sets: refused when wrong (values.schema.json), scheduling and pod metadata,
security contexts (OpenShift), the cert-manager CA, metrics and alert rules, and a migration job that cannot
deadlock `helm install --wait`. Every variant renders, lints strictly and is valid Kubernetes."""

from __future__ import annotations

import copy
import json
from typing import Any

import helm_python
import jsonschema
import pytest
import yaml
from chart_helpers import CHART, OPENSHIFT, PRODUCTION, find, manifests, pod_specs, render, validate_all
from helm_python import Chart

from services.support.mesh import deploy, registry

SCHEMA = json.loads((CHART / "values.schema.json").read_text())
ALERTS = yaml.safe_load((CHART / "files/prometheus/alerts.yml").read_text())
ZONE_SPREAD = {"maxSkew": 1, "topologyKey": "topology.kubernetes.io/zone", "whenUnsatisfiable": "ScheduleAnyway"}
SCHEDULED = {
    "nodeSelector": {"pool": "general"},
    "tolerations": [{"key": "dedicated", "operator": "Equal", "value": "library", "effect": "NoSchedule"}],
    "affinity": {
        "nodeAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": {
                "nodeSelectorTerms": [{"matchExpressions": [{"key": "arch", "operator": "In", "values": ["amd64"]}]}]
            }
        }
    },
    "topologySpreadConstraints": [ZONE_SPREAD],
    "podAnnotations": {"team": "library", "cost-centre": "42"},
    "serviceOverrides": {"catalog": {"nodeSelector": {"pool": "search"}, "podAnnotations": {"team": "search"}}},
    "edge": {"tolerations": [], "podAnnotations": {"edge": "yes"}},
}
WITH_CA = {"mtls": {"certManager": {"enabled": True, "createIssuer": True}}}
MONITORED = {
    "observability": {
        "serviceMonitor": {"enabled": True, "labels": {"release": "kube-prometheus-stack"}},
        "prometheusRule": {"enabled": True, "labels": {"release": "kube-prometheus-stack"}},
    }
}
VARIANTS = {"scheduled": SCHEDULED, "openshift": OPENSHIFT, "cert-manager-ca": WITH_CA, "monitored": MONITORED}


def lint(values: dict[str, Any] | None) -> dict[str, Any]:
    return helm_python.lint(str(CHART), values, strict=True, kube_version="1.30.0")


# values.schema.json --------------------------------------------------------------------------------------


def test_the_schema_is_a_valid_json_schema_and_every_values_file_follows_it() -> None:
    jsonschema.Draft7Validator.check_schema(SCHEMA)
    for name in ("values.yaml", "values-production.yaml", "values-openshift.yaml"):
        with Chart.load(str(CHART)) as chart:
            chart.validate_schema(yaml.safe_load((CHART / name).read_text()))


@pytest.mark.parametrize(
    ("values", "complaint"),
    [
        ({"serviceDefaults": {"replicas": "two"}}, "/serviceDefaults/replicas"),
        ({"environment": "staging"}, "/environment"),
        ({"edge": {"service": {"type": "Public"}}}, "/edge/service/type"),
        ({"serviceOverrides": {"catalog": {"replica": 3}}}, "replica"),  # a typo is no silent no-op
        ({"nats": {"jetstreamReplicas": 7}}, "/nats/jetstreamReplicas"),
        ({"mtls": {"certManager": {"duration": "90 days"}}}, "/mtls/certManager/duration"),
        ({"topologySpreadConstraints": [{"maxSkew": 1}]}, "topologyKey"),
        ({"podSecurityContext": {"runAsUser": "root"}}, "/podSecurityContext/runAsUser"),
        ({"imagePullSecret": [{"name": "registry"}]}, "imagePullSecret"),
    ],
)
def test_a_wrong_value_is_refused_by_install_and_lint(values: dict[str, Any], complaint: str) -> None:
    with pytest.raises(helm_python.HelmError, match=complaint):
        render(values)  # what `helm install` / `template` does first
    assert lint(values)["errors"], "lint accepted it"


def test_the_services_block_the_registry_generates_follows_the_schema() -> None:
    values = yaml.safe_load(deploy.values_with_services((CHART / "values.yaml").read_text()))
    jsonschema.validate(values, SCHEMA)
    broken = copy.deepcopy(values)
    broken["services"][0]["secretSettings"] = ["signing_key"]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, SCHEMA)


# every variant ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("values", VARIANTS.values(), ids=VARIANTS.keys())
def test_every_variant_lints_strictly_and_is_valid_kubernetes(values: dict[str, Any]) -> None:
    result = lint(values)
    assert result["errors"] == [], result["messages"]
    assert [m for m in result["messages"] if m["severity"] > 1] == []
    validate_all(manifests(render(values)))


# scheduling and pod metadata ---------------------------------------------------------------------------------


def test_scheduling_and_annotations_reach_every_pod_and_a_workload_may_set_its_own() -> None:
    pods = pod_specs(manifests(render(SCHEDULED)))
    assert set(pods) >= {*(spec.name for spec in registry.SERVICES), "edge", "athenaeum-migrate-1"}
    for name, template in pods.items():
        spec, annotations = template["spec"], template["metadata"].get("annotations", {})
        assert spec["affinity"] == SCHEDULED["affinity"], name
        expected_pool = "search" if name == "catalog" else "general"
        assert spec["nodeSelector"] == {"pool": expected_pool}, name
        assert annotations["cost-centre"] == "42", name
        assert annotations["team"] == ("search" if name == "catalog" else "library"), name
        if name == "edge":
            assert annotations["edge"] == "yes"
        # An empty list of its own keeps the chart-wide one: only a non-empty value replaces it.
        assert spec["tolerations"] == SCHEDULED["tolerations"], name


def test_a_spread_constraint_without_selector_spreads_the_pods_of_its_own_workload() -> None:
    for template in pod_specs(manifests(render(SCHEDULED))).values():
        (constraint,) = template["spec"]["topologySpreadConstraints"]
        own = constraint.pop("labelSelector")["matchLabels"]
        assert constraint == ZONE_SPREAD
        assert own.items() <= template["metadata"]["labels"].items()
        assert own["app.kubernetes.io/component"] == template["metadata"]["labels"]["app.kubernetes.io/component"]
    given = {**ZONE_SPREAD, "labelSelector": {"matchLabels": {"tier": "api"}}}
    template = pod_specs(manifests(render({"topologySpreadConstraints": [given]})))["catalog"]
    assert template["spec"]["topologySpreadConstraints"] == [given]


def test_without_scheduling_values_pods_carry_none() -> None:
    for template in pod_specs(manifests(render())).values():
        assert not {"nodeSelector", "tolerations", "affinity", "topologySpreadConstraints"} & set(template["spec"])


# security contexts ---------------------------------------------------------------------------------------


def test_openshift_values_leave_the_ids_to_the_platform_and_keep_the_hardening() -> None:
    for name, template in pod_specs(manifests(render(OPENSHIFT))).items():
        context = template["spec"]["securityContext"]
        assert not {"runAsUser", "runAsGroup", "fsGroup"} & set(context), name
        assert context["runAsNonRoot"] is True and context["seccompProfile"] == {"type": "RuntimeDefault"}
        for container in [*template["spec"].get("initContainers", []), *template["spec"]["containers"]]:
            assert container["securityContext"]["readOnlyRootFilesystem"] is True


def test_the_security_contexts_are_values() -> None:
    values = {"podSecurityContext": {"runAsUser": 2000}, "containerSecurityContext": {"readOnlyRootFilesystem": True}}
    template = pod_specs(manifests(render(values)))["loans"]
    assert template["spec"]["securityContext"]["runAsUser"] == 2000
    assert template["spec"]["securityContext"]["runAsGroup"] == 10001  # the defaults it did not change stay
    assert template["spec"]["containers"][0]["securityContext"]["readOnlyRootFilesystem"] is True


# the cert-manager CA ----------------------------------------------------------------------------------------


def test_create_issuer_makes_a_self_signed_root_and_the_ca_issuer_the_mesh_certificates_use() -> None:
    docs = manifests(render(WITH_CA))
    issuer_name = "athenaeum-mesh-ca"
    root = find(docs, "Certificate", issuer_name)["spec"]
    assert root["isCA"] is True and root["secretName"] == issuer_name
    assert find(docs, "Issuer", root["issuerRef"]["name"])["spec"] == {"selfSigned": {}}
    assert find(docs, "Issuer", issuer_name)["spec"] == {"ca": {"secretName": issuer_name}}
    for identity in registry.identities():
        mesh = find(docs, "Certificate", f"athenaeum-mesh-{identity}")["spec"]
        assert mesh["issuerRef"] == {"name": issuer_name, "kind": "Issuer", "group": "cert-manager.io"}


def test_create_issuer_refuses_a_cluster_issuer_and_is_off_by_default() -> None:
    cluster = {"mtls": {"certManager": {"enabled": True, "createIssuer": True, "issuerRef": {"kind": "ClusterIssuer"}}}}
    with pytest.raises(helm_python.HelmError, match=r"set mtls\.certManager\.issuerRef\.kind to Issuer"):
        render(cluster)
    assert not [doc for doc in manifests(render(PRODUCTION)) if doc["kind"] == "Issuer"]


# metrics and alerts -------------------------------------------------------------------------------------------


def test_the_edges_envoy_stats_are_scraped_by_annotations_and_by_the_service_monitor() -> None:
    docs = manifests(render(MONITORED))
    edge = find(docs, "Deployment", "edge")["spec"]["template"]
    annotations = edge["metadata"]["annotations"]
    assert (annotations["prometheus.io/port"], annotations["prometheus.io/path"]) == ("15021", "/stats/prometheus")
    assert {"name": "ops", "containerPort": 15021, "protocol": "TCP"} in edge["spec"]["containers"][0]["ports"]
    assert edge["spec"]["containers"][0]["readinessProbe"]["httpGet"] == {"path": "/ready", "port": "ops"}

    metrics = find(docs, "Service", "edge-metrics")
    monitor = find(docs, "ServiceMonitor", "athenaeum")
    assert monitor["spec"]["selector"]["matchLabels"].items() <= metrics["metadata"]["labels"].items()
    assert [p["name"] for p in metrics["spec"]["ports"]] == ["http-ops"]
    assert {e["port"] for e in monitor["spec"]["endpoints"]} == {"http-metrics", "http-ops"}
    assert monitor["metadata"]["labels"]["release"] == "kube-prometheus-stack"
    assert find(docs, "Service", "edge")["spec"]["ports"] == [  # the public Service exposes no stats
        {"name": "http", "port": 8080, "targetPort": "http", "protocol": "TCP"}
    ]
    ops_rule = find(docs, "NetworkPolicy", "edge")["spec"]["ingress"][1]
    assert ops_rule["ports"] == [{"port": 15021, "protocol": "TCP"}]


def test_the_prometheus_rule_carries_the_alert_rules_of_the_repository() -> None:
    rule = find(manifests(render(MONITORED)), "PrometheusRule", "athenaeum")
    assert rule["spec"] == ALERTS
    assert rule["metadata"]["labels"]["release"] == "kube-prometheus-stack"
    assert not [doc for doc in manifests(render()) if doc["kind"] in ("PrometheusRule", "ServiceMonitor")]


# the migration job and `helm install --wait` -------------------------------------------------------------------


def hooks(docs: list[dict[str, Any]]) -> dict[str, str]:
    return {
        f"{doc['kind']}/{doc['metadata']['name']}": doc["metadata"]["annotations"]["helm.sh/hook"]
        for doc in docs
        if "helm.sh/hook" in doc["metadata"].get("annotations", {})
    }


def test_with_an_external_database_the_migration_runs_before_anything_on_what_exists_already() -> None:
    docs = manifests(render(PRODUCTION))
    assert hooks(docs) == {"Job/athenaeum-migrate": "pre-install,pre-upgrade"}
    job = find(docs, "Job", "athenaeum-migrate")["spec"]["template"]["spec"]
    referenced = {env["valueFrom"]["secretKeyRef"]["name"] for env in job["containers"][0]["env"] if "valueFrom" in env}
    rendered = {doc["metadata"]["name"] for doc in docs if doc["kind"] in ("Secret", "ConfigMap")}
    auth = PRODUCTION["postgresql"]["auth"]
    assert referenced == {auth["existingSecret"]} and not referenced & rendered
    secrets = {volume["secret"]["secretName"] for volume in job["volumes"] if "secret" in volume}
    assert secrets == {auth["rolesExistingSecret"]} and not secrets & rendered
    assert all("emptyDir" in volume or "secret" in volume for volume in job["volumes"])


def test_with_the_bundled_database_the_migration_is_a_resource_of_each_revision() -> None:
    docs = manifests(render(revision=3))
    assert hooks(docs) == {}  # no hook waits for ready pods, and none runs before the database exists
    job = find(docs, "Job", "athenaeum-migrate-3")
    assert job["spec"]["template"]["spec"]["containers"][0]["command"][-1] == "migrate"


def test_every_service_pod_waits_for_its_schema_with_the_services_own_database_settings() -> None:
    for values in (None, PRODUCTION):
        docs = manifests(render(values))
        for spec in registry.SERVICES:
            pod = find(docs, "Deployment", spec.name)["spec"]["template"]["spec"]
            sidecar, wait = pod["initContainers"]
            assert sidecar["name"] == "envoy" and wait["name"] == "wait-for-schema"
            assert wait["command"][-2:] == ["wait-for-schema", spec.name]
            database = [e for e in pod["containers"][0]["env"] if e["name"].startswith("ATHENAEUM_DATABASE_")]
            assert wait["env"] == database


@pytest.mark.parametrize("secret", ["existingSecret", "rolesExistingSecret"])
def test_an_external_database_needs_the_secrets_of_its_passwords(secret: str) -> None:
    values = copy.deepcopy(PRODUCTION)
    values["postgresql"]["auth"][secret] = ""
    with pytest.raises(helm_python.HelmError, match=rf"postgresql\.auth\.{secret} is required"):
        render(values)


@pytest.mark.parametrize("tls", [{"caSecret": "nats-ca"}, {"serverName": "nats.messaging"}])
def test_nats_tls_is_refused_with_the_bundled_nats_which_speaks_no_tls(tls: dict[str, str]) -> None:
    with pytest.raises(helm_python.HelmError, match=r"nats\.tls\.\* applies to an existing NATS \(nats\.bundled"):
        render({"nats": {"tls": tls}})
