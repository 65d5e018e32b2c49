"""The Helm chart, without a cluster: rendered (defaults and the production values), linted strictly,
every manifest validated against the Kubernetes schemas, and the mesh rules checked on what renders."""

from __future__ import annotations

from typing import Any

import helm_python
import kubernetes_validate
import pytest
import yaml
from chart_helpers import CHART, CRD_KINDS, KUBE_VERSIONS, PRODUCTION, find, manifests, render

from services.support.mesh import registry


@pytest.fixture(scope="module", params=["default", "production"])
def docs(request: pytest.FixtureRequest) -> list[dict[str, Any]]:
    return manifests(render(None if request.param == "default" else PRODUCTION))


@pytest.mark.parametrize("values", [None, PRODUCTION], ids=["default", "production"])
def test_the_chart_lints_strictly(values: dict[str, Any] | None) -> None:
    result = helm_python.lint(str(CHART), values, strict=True, kube_version=KUBE_VERSIONS[0])
    assert result["errors"] == [], result["messages"]
    assert [m for m in result["messages"] if m["severity"] > 1] == []  # nothing beyond INFO


@pytest.mark.parametrize("kube_version", KUBE_VERSIONS)
def test_every_rendered_manifest_is_valid_kubernetes(docs: list[dict[str, Any]], kube_version: str) -> None:
    for doc in docs:
        if doc["kind"] in CRD_KINDS:
            continue
        kubernetes_validate.validate(doc, kube_version, strict=True)


def test_the_validation_catches_an_invalid_manifest(docs: list[dict[str, Any]]) -> None:
    deployment = dict(find(docs, "Deployment", "catalog"))
    deployment["spec"] = {**deployment["spec"], "replicas": "many"}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, KUBE_VERSIONS[0], strict=True)


def test_every_service_of_the_registry_gets_its_workload(docs: list[dict[str, Any]]) -> None:
    for spec in registry.SERVICES:
        for kind in ("ServiceAccount", "Deployment", "Service", "PodDisruptionBudget", "NetworkPolicy"):
            find(docs, kind, spec.name)
        pod = find(docs, "Deployment", spec.name)["spec"]["template"]["spec"]
        assert pod["containers"][0]["command"] == ["python", "-m", spec.module]
        assert f"/etc/athenaeum/envoy/{spec.name}.yaml" in pod["initContainers"][0]["args"]
        env = {e["name"]: e for e in pod["containers"][0]["env"]}
        url = env["ATHENAEUM_DATABASE_URL"]["value"]
        assert url.endswith(f"/{spec.database}") or f"/{spec.database}?" in url
        # Its own role (named as its database) with its own password, never the administrator's account.
        assert url.split("//")[1].split("@")[0] == spec.database  # a user, never a password
        password = env["ATHENAEUM_DATABASE_PASSWORD"]["valueFrom"]["secretKeyRef"]
        assert password["key"] == spec.name and password["name"].endswith("postgresql-roles")


def test_secret_settings_come_from_a_secret_never_from_values(docs: list[dict[str, Any]]) -> None:
    for spec in registry.SERVICES:
        env = find(docs, "Deployment", spec.name)["spec"]["template"]["spec"]["containers"][0]["env"]
        from_secrets = {e["name"]: e["valueFrom"]["secretKeyRef"] for e in env if "valueFrom" in e}
        for name in spec.secret_settings:
            assert from_secrets[name]["key"] == name
            assert from_secrets[name]["name"].endswith(f"-{spec.name}-secrets")
    assert any(spec.secret_settings for spec in registry.SERVICES)


def test_only_the_registry_callers_may_reach_a_service(docs: list[dict[str, Any]]) -> None:
    for spec in registry.SERVICES:
        mesh_rule = find(docs, "NetworkPolicy", spec.name)["spec"]["ingress"][0]
        allowed = {peer["podSelector"]["matchLabels"]["app.kubernetes.io/component"] for peer in mesh_rule["from"]}
        assert allowed == set(spec.callers)
        assert mesh_rule["ports"] == [{"port": 8443, "protocol": "TCP"}]


def test_pods_are_hardened(docs: list[dict[str, Any]]) -> None:
    for doc in docs:
        if doc["kind"] not in ("Deployment", "StatefulSet", "Job"):
            continue
        pod = doc["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["automountServiceAccountToken"] is False
        for container in [*pod.get("initContainers", []), *pod["containers"]]:
            context = container["securityContext"]
            assert context["readOnlyRootFilesystem"] is True, container["name"]
            assert context["allowPrivilegeEscalation"] is False
            assert context["capabilities"] == {"drop": ["ALL"]}
            assert container["resources"]["requests"], container["name"]


def test_rollouts_never_lose_capacity_and_pods_drain_before_stopping(docs: list[dict[str, Any]]) -> None:
    for name in [*(spec.name for spec in registry.SERVICES), registry.EDGE]:
        deployment = find(docs, "Deployment", name)
        assert deployment["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
        pod = deployment["spec"]["template"]["spec"]
        main = pod["containers"][0]
        pre_stop = main["lifecycle"]["preStop"]["sleep"]["seconds"]
        assert 0 < pre_stop < pod["terminationGracePeriodSeconds"]


def test_services_use_native_grpc_probes_through_the_sidecar_and_the_sidecar_is_native(
    docs: list[dict[str, Any]],
) -> None:
    for spec in registry.SERVICES:
        pod = find(docs, "Deployment", spec.name)["spec"]["template"]["spec"]
        app, sidecar = pod["containers"][0], pod["initContainers"][0]
        assert app["readinessProbe"]["grpc"] == {"port": 15021, "service": ""}
        assert app["livenessProbe"]["grpc"] == {"port": 15021, "service": "liveness"}
        assert sidecar["restartPolicy"] == "Always"
        assert {p["containerPort"] for p in sidecar["ports"]} == {8443, 15021}
        assert find(docs, "Service", spec.name)["spec"]["clusterIP"] == "None"


def test_the_envoy_configmap_carries_every_config_and_the_descriptor(docs: list[dict[str, Any]]) -> None:
    config_map = find(docs, "ConfigMap", "athenaeum-envoy")
    configs = {f"{name}.yaml" for name in registry.identities()}
    sds = {f"{name}-certificate.sds.yaml" for name in registry.identities()} | {"mesh-ca.sds.yaml"}
    assert set(config_map["data"]) == configs | sds
    assert config_map["binaryData"]["athenaeum.binpb"]


def test_defaults_bundle_nats_and_postgres_and_use_the_users_secret_for_certificates() -> None:
    docs = manifests(render())
    find(docs, "StatefulSet", "athenaeum-nats")
    init = find(docs, "ConfigMap", "athenaeum-postgresql-init")["data"]["create-databases.sql"]
    assert all(f"CREATE DATABASE {spec.database};" in init for spec in registry.SERVICES)
    volumes = find(docs, "Deployment", "catalog")["spec"]["template"]["spec"]["volumes"]
    certs = next(v for v in volumes if v["name"] == "mesh-certs")["secret"]
    assert certs["secretName"] == "athenaeum-mesh-certs"
    assert {item["path"] for item in certs["items"]} == {"ca.pem", "catalog.pem", "catalog-key.pem"}
    assert not [doc for doc in docs if doc["kind"] in ("HorizontalPodAutoscaler", "Certificate", "Ingress")]
    # Its data volume outlives `helm uninstall`, and takes the password only once: the Secret is kept too.
    secret = find(docs, "Secret", "athenaeum-postgresql")["metadata"]
    assert secret["annotations"]["helm.sh/resource-policy"] == "keep"
    roles = find(docs, "Secret", "athenaeum-postgresql-roles")  # the services' own, kept as well
    assert roles["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep"
    assert set(roles["data"]) == {spec.name for spec in registry.SERVICES}
    job = find(docs, "Job", "athenaeum-migrate-1")["spec"]["template"]["spec"]
    mounted = next(v for v in job["volumes"] if v["name"] == "database-roles")["secret"]["secretName"]
    assert mounted == "athenaeum-postgresql-roles"
    env = {e["name"]: e.get("value") for e in job["containers"][0]["env"]}
    assert env["ATHENAEUM_DATABASE_ROLE_PASSWORDS"] == "/etc/athenaeum/database-roles/{service}"


def test_production_uses_external_services_cert_manager_and_autoscaling() -> None:
    docs = manifests(render(PRODUCTION))
    kinds = {doc["kind"] for doc in docs}
    assert "StatefulSet" not in kinds  # no bundled NATS or PostgreSQL
    certificates = {doc["metadata"]["name"]: doc["spec"] for doc in docs if doc["kind"] == "Certificate"}
    assert set(certificates) == {f"athenaeum-mesh-{identity}" for identity in registry.identities()}
    assert certificates["athenaeum-mesh-loans"]["uris"] == [registry.spiffe_id("loans")]
    for spec in registry.SERVICES:
        hpa = find(docs, "HorizontalPodAutoscaler", spec.name)["spec"]
        assert hpa["minReplicas"] >= 2
        env = {
            e["name"]: e.get("value")
            for e in find(docs, "Deployment", spec.name)["spec"]["template"]["spec"]["containers"][0]["env"]
        }
        assert env["ATHENAEUM_NATS_URL"] == PRODUCTION["nats"]["url"]
        assert env["ATHENAEUM_JETSTREAM_REPLICAS"] == "3"
    assert find(docs, "HorizontalPodAutoscaler", "catalog")["spec"]["maxReplicas"] == 20
    assert find(docs, "Ingress", "edge")["spec"]["rules"][0]["host"] == "library.example.com"


def test_external_services_must_be_named() -> None:
    with pytest.raises(helm_python.HelmError, match=r"postgresql\.host is required"):
        render({"postgresql": {"bundled": False}})


def test_notes_tell_how_to_reach_the_api() -> None:
    notes = render()["athenaeum/templates/NOTES.txt"]
    assert "kubectl -n library port-forward service/edge 8080:8080" in notes
    assert "curl -s 'localhost:8080/v1/books?page_size=5'" in notes
    assert "https://library.example.com/v1/books" in render(PRODUCTION)["athenaeum/templates/NOTES.txt"]


def _env(docs: list[dict[str, Any]], service: str) -> dict[str, dict[str, Any]]:
    containers = find(docs, "Deployment", service)["spec"]["template"]["spec"]["containers"]
    return {e["name"]: e for e in containers[0]["env"]}


@pytest.mark.parametrize("values", [None, PRODUCTION], ids=["bundled", "external"])
def test_every_service_signs_in_to_nats_as_itself_with_a_password_from_a_secret(values: dict[str, Any] | None) -> None:
    """Nothing else may publish events, and a service only its own (files/nats/authorization.conf)."""
    docs = manifests(render(values))
    secret = "athenaeum-nats" if values is None else PRODUCTION["nats"]["auth"]["existingSecret"]
    for spec in registry.SERVICES:
        env = _env(docs, spec.name)
        assert env["ATHENAEUM_NATS_USER"]["value"] == spec.name
        assert env["ATHENAEUM_NATS_PASSWORD"]["valueFrom"]["secretKeyRef"] == {"name": secret, "key": spec.name}
        assert "@" not in env["ATHENAEUM_NATS_URL"]["value"]
    if values is None:
        passwords = find(docs, "Secret", "athenaeum-nats")["data"]
        assert set(passwords) == {spec.name for spec in registry.SERVICES}
        assert len(set(passwords.values())) == len(passwords)  # each its own
        config = find(docs, "ConfigMap", "athenaeum-nats-config")["data"]["nats.conf"]
        assert config == (CHART / "files/nats/authorization.conf").read_text()
        template = find(docs, "StatefulSet", "athenaeum-nats")["spec"]["template"]
        assert len(template["metadata"]["annotations"]["checksum/authorization"]) == 64  # new users roll NATS
        nats = template["spec"]["containers"][0]
        assert "--config=/etc/nats/nats.conf" in nats["args"]
        variables = {e["name"]: e["valueFrom"]["secretKeyRef"] for e in nats["env"] if e["name"].startswith("NATS_")}
        assert variables == {
            f"NATS_PASSWORD_{spec.name.upper()}": {"name": "athenaeum-nats", "key": spec.name}
            for spec in registry.SERVICES
        }


def test_an_external_nats_without_a_secret_gets_no_credentials() -> None:
    values = {"nats": {"bundled": False, "url": "nats://nats.messaging:4222"}}
    docs = manifests(render(values))
    assert not {"ATHENAEUM_NATS_USER", "ATHENAEUM_NATS_PASSWORD"} & set(_env(docs, "loans"))
    assert not [doc for doc in docs if doc["kind"] == "Secret" and doc["metadata"]["name"] == "athenaeum-nats"]


def test_only_the_services_reach_the_bundled_nats_and_postgres() -> None:
    docs = manifests(render())
    services = {spec.name for spec in registry.SERVICES}
    for name, port, also in (("athenaeum-nats", 4222, set()), ("athenaeum-postgresql", 5432, {"migrate"})):
        rules = find(docs, "NetworkPolicy", name)["spec"]["ingress"]
        clients = next(rule for rule in rules if rule["ports"] == [{"port": port, "protocol": "TCP"}])
        allowed = {peer["podSelector"]["matchLabels"]["app.kubernetes.io/component"] for peer in clients["from"]}
        assert allowed == services | also, name
        assert all("from" in rule or rule["ports"][0]["port"] in (8222, 9187) for rule in rules), name


def test_the_chart_claims_no_kubernetes_older_than_its_prestop_sleep_needs() -> None:
    """The preStop hooks' `sleep` action is alpha and off by default in 1.29 (the API server drops the field),
    beta and on from 1.30: the chart's floor is the oldest version the tests validate against, and 1.29 is
    refused at install rather than rolling updates silently losing their drain."""
    chart = yaml.safe_load((CHART / "Chart.yaml").read_text())
    assert chart["kubeVersion"] == f">={KUBE_VERSIONS[0]}-0"  # helm install refuses an older cluster

    def release(version: str) -> tuple[int, ...]:
        return tuple(int(part) for part in version.split("-")[0].split("."))

    assert release(KUBE_VERSIONS[0]) >= (1, 30, 0) > release("1.29.9")
    assert min(KUBE_VERSIONS, key=release) == KUBE_VERSIONS[0]


def test_an_external_nats_with_tls_is_spoken_to_over_tls_trusting_its_ca_only() -> None:
    values = {"nats": {"bundled": False, "url": "nats://nats.messaging:4222",
                       "tls": {"caSecret": "nats-ca", "serverName": "nats.messaging"}}}  # fmt: skip
    docs = manifests(render(values))
    env = _env(docs, "loans")
    assert env["ATHENAEUM_NATS_CA_FILE"]["value"] == "/etc/athenaeum/nats-ca/ca.crt"
    assert env["ATHENAEUM_NATS_TLS_HOSTNAME"]["value"] == "nats.messaging"
    pod = find(docs, "Deployment", "loans")["spec"]["template"]["spec"]
    assert {"name": "nats-ca", "mountPath": "/etc/athenaeum/nats-ca", "readOnly": True} in pod["containers"][0][
        "volumeMounts"
    ]
    assert [v["secret"]["secretName"] for v in pod["volumes"] if v["name"] == "nats-ca"] == ["nats-ca"]
    assert "ATHENAEUM_NATS_CA_FILE" not in _env(manifests(render(None)), "loans")  # the bundled NATS: plain
