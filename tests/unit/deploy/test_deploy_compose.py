"""docker-compose.yml, checked without a Docker engine: the Compose specification (compose-spec, a strict
parser), the cross-references `docker compose up` would trip on, and how secrets reach the containers."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from compose_spec import PyCompose

from services.support.mesh import compose, edge_tls, registry

ROOT = Path(__file__).resolve().parents[3]
COMPOSE_TEXT = (ROOT / compose.COMPOSE_FILE).read_text()
ONE_SHOT_JOBS = {"certs", "migrate"}


def interpolated(text: str) -> str:
    """What Compose reads with none of the variables set: `${NAME:-default}` becomes `default`."""
    return re.sub(r"\$\{[A-Z_]+:-([^}]*)\}", r"\1", text)


@pytest.fixture(scope="module")
def project() -> dict[str, Any]:
    return yaml.safe_load(interpolated(COMPOSE_TEXT))


def test_the_file_follows_the_compose_specification() -> None:
    PyCompose.from_yaml(interpolated(COMPOSE_TEXT))  # raises on an unknown key or a malformed value


def test_the_validator_catches_a_broken_file() -> None:
    broken = interpolated(COMPOSE_TEXT).replace("condition: service_healthy", "condition: service_happy", 1)
    with pytest.raises(ValueError, match="service_happy"):
        PyCompose.from_yaml(broken)


def test_every_variable_has_a_default_and_none_is_a_secret() -> None:
    every = re.findall(r"\$\{[^}]*\}", COMPOSE_TEXT)
    assert every == re.findall(r"\$\{[A-Z_]+:-[^}]*\}", COMPOSE_TEXT)
    assert not re.search(r"PASSWORD[A-Z_]*:-|PASSPHRASE[A-Z_]*:-|dev-only", COMPOSE_TEXT)


def test_secrets_are_files_of_the_secrets_folder_handed_over_as_compose_secrets(project: dict[str, Any]) -> None:
    declared = project["secrets"]
    assert all(secret["file"] == f"./secrets/{name}" for name, secret in declared.items())
    used = {name for service in project["services"].values() for name in service.get("secrets", [])}
    assert used == set(declared)
    ignored = (ROOT / ".gitignore").read_text().split() + (ROOT / ".dockerignore").read_text().split()
    assert "secrets/" in ignored and "secrets" in ignored  # never committed, never in the image's build context


def test_every_service_reads_its_secrets_from_files_and_the_database_password_too(project: dict[str, Any]) -> None:
    services = project["services"]
    for spec in registry.SERVICES:
        service = services[spec.name]
        files = {name: value for name, value in service["environment"].items() if name.endswith("_FILE")}
        expected = {"ATHENAEUM_DATABASE_PASSWORD", "ATHENAEUM_NATS_PASSWORD", *spec.secret_settings}
        assert {name.removesuffix("_FILE") for name in files} == expected
        assert {value.removeprefix("/run/secrets/") for value in files.values()} == set(service["secrets"])
        assert service["environment"]["ATHENAEUM_NATS_USER"] == spec.name  # publishes only its own events
        assert files["ATHENAEUM_NATS_PASSWORD_FILE"] == f"/run/secrets/nats-password-{spec.name}"
        # Its own role (named as its database), never the administrator's account.
        assert service["environment"]["ATHENAEUM_DATABASE_URL"] == (
            f"postgresql+asyncpg://{spec.database}@postgres:5432/{spec.database}"
        )
        assert files["ATHENAEUM_DATABASE_PASSWORD_FILE"] == f"/run/secrets/postgres-password-{spec.name}"
        assert ":" not in service["environment"]["ATHENAEUM_DATABASE_URL"].split("@")[0].split("//")[1]  # no password
    assert services["postgres"]["environment"]["POSTGRES_PASSWORD_FILE"] == "/run/secrets/postgres-password"
    nats = services["nats"]
    assert set(nats["secrets"]) == {f"nats-password-{spec.name}" for spec in registry.SERVICES}
    for spec in registry.SERVICES:  # the server reads each user's password from its environment
        variable = f'NATS_PASSWORD_{spec.name.upper()}="$$(cat /run/secrets/nats-password-{spec.name})"'
        assert variable in nats["entrypoint"][-1]
    assert "./deploy/nats/authorization.conf:/etc/nats/nats.conf:ro" in nats["volumes"]
    migrate = services["migrate"]
    assert migrate["environment"]["ATHENAEUM_DATABASE_PASSWORD_FILE"] == "/run/secrets/postgres-password"
    # It makes each service's role with that service's password.
    assert migrate["environment"]["ATHENAEUM_DATABASE_ROLE_PASSWORDS"] == "/run/secrets/postgres-password-{service}"
    assert set(migrate["secrets"]) == {"postgres-password"} | {f"postgres-password-{s.name}" for s in registry.SERVICES}
    holders = {name for name, service in services.items() if "postgres-password" in service.get("secrets", [])}
    assert holders == {"postgres", "migrate"}


def test_the_tls_front_is_a_profile_that_hands_every_request_to_the_edge(project: dict[str, Any]) -> None:
    front = project["services"][edge_tls.SERVICE]
    assert front["profiles"] == ["tls"] and front["depends_on"] == {"edge": {"condition": "service_healthy"}}
    assert set(front["secrets"]) == {edge_tls.CERT_SECRET, edge_tls.KEY_SECRET}
    assert front["ports"] == [f"8443:{edge_tls.PORT}"]
    assert [service for name, service in project["services"].items() if "profiles" in service] == [front]


def test_every_service_of_the_registry_runs_with_its_sidecar_and_the_edge_waits_for_them(
    project: dict[str, Any],
) -> None:
    services = project["services"]
    for spec in registry.SERVICES:
        assert services[spec.name]["command"] == ["python", "-m", spec.module]
        sidecar = services[f"{spec.name}-sidecar"]
        assert sidecar["network_mode"] == f"service:{spec.name}"
        assert f"/etc/athenaeum/envoy/{spec.name}.yaml" in sidecar["command"]
        assert (ROOT / "envoy" / f"{spec.name}.yaml").is_file()
        assert spec.database in services[spec.name]["environment"]["ATHENAEUM_DATABASE_URL"]
    assert set(services["edge"]["depends_on"]) == {f"{spec.name}-sidecar" for spec in registry.SERVICES}


def test_every_envoy_runs_without_hot_restart_as_in_the_chart(project: dict[str, Any]) -> None:
    """Hot restart listens on abstract Unix sockets, which any process of the network namespace may send a
    "terminate" to: in compose, a sidecar shares its service's."""
    envoys = {name: service for name, service in project["services"].items() if "envoy" in service["image"]}
    assert {"edge", *(f"{spec.name}-sidecar" for spec in registry.SERVICES)} <= set(envoys)
    for name, service in envoys.items():
        assert "--disable-hot-restart" in service["command"], name


def test_every_dependency_exists_and_a_healthy_condition_has_a_healthcheck(project: dict[str, Any]) -> None:
    services = project["services"]
    for name, service in services.items():
        depends_on = service.get("depends_on", {})
        conditions = depends_on if isinstance(depends_on, dict) else {dep: {} for dep in depends_on}
        for dependency, how in conditions.items():
            assert dependency in services, f"{name} depends on unknown {dependency}"
            if how.get("condition") == "service_healthy":
                check = services[dependency].get("healthcheck", {})
                assert check.get("test") and not check.get("disable"), f"{dependency} has no healthcheck"
            if how.get("condition") == "service_completed_successfully":
                assert dependency in ONE_SHOT_JOBS and services[dependency]["restart"] == "no"
        if mode := service.get("network_mode"):
            assert mode.removeprefix("service:") in conditions, f"{name} joins a namespace it does not wait for"


def test_every_long_running_service_is_health_checked_and_restarted(project: dict[str, Any]) -> None:
    for name, service in project["services"].items():
        if name in ONE_SHOT_JOBS or name in {"jaeger", "prometheus", "grafana"}:
            continue
        assert service["healthcheck"]["test"][0] in ("CMD", "CMD-SHELL"), name
        assert service["restart"] == "unless-stopped", name


def test_named_volumes_are_declared_and_bind_mounts_exist_in_the_repository(project: dict[str, Any]) -> None:
    declared = set(project["volumes"])
    used: set[str] = set()
    for name, service in project["services"].items():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("./"):
                assert (ROOT / source).exists(), f"{name} mounts missing {source}"
            else:
                assert source in declared, f"{name} uses undeclared volume {source}"
                used.add(source)
    assert used == declared


def test_published_host_ports_do_not_clash(project: dict[str, Any]) -> None:
    host_ports = [str(port).split(":")[-2] for s in project["services"].values() for port in s.get("ports", [])]
    assert len(host_ports) == len(set(host_ports))
    assert "8080" in host_ports


def test_only_the_edge_is_published_beyond_this_host_by_default(project: dict[str, Any]) -> None:
    """Mailpit (every patron's mail), the SMS sink, Prometheus, Jaeger and Grafana were published on every
    interface of the server."""
    published = {name: [str(port) for port in s.get("ports", [])] for name, s in project["services"].items()}
    beyond = {name for name, ports in published.items() if any(not p.startswith("127.0.0.1:") for p in ports)}
    assert beyond <= {"edge", "edge-tls"}, beyond
    assert {"mailpit", "sms-sink", "grafana", "prometheus", "jaeger"} <= {n for n, ports in published.items() if ports}


def test_certificates_come_from_the_one_shot_job_and_are_never_committed(project: dict[str, Any]) -> None:
    services = project["services"]
    assert services["certs"]["command"][:4] == ["python", "-m", "services.support.mesh.containers", "certs"]
    for name, service in services.items():
        if "envoy" in service.get("image", "") and name != edge_tls.SERVICE:  # the TLS front is no mesh identity
            assert "mesh-certs:/etc/athenaeum/certs:ro" in service["volumes"], name
            assert service["user"] == compose.APP_UID
    tracked = subprocess.run(["git", "ls-files", "*.pem"], cwd=ROOT, capture_output=True, text=True, check=True)
    assert tracked.stdout == ""


def test_services_reach_infrastructure_by_compose_names(project: dict[str, Any]) -> None:
    services = project["services"]
    for spec in registry.SERVICES:
        env = services[spec.name]["environment"]
        assert "@postgres:5432/" in env["ATHENAEUM_DATABASE_URL"]
        assert env["ATHENAEUM_NATS_URL"] == "nats://nats:4222"
        assert env["ATHENAEUM_OTLP_ENDPOINT"].startswith("http://jaeger:")
    envoy_hosts = set(re.findall(r"address: ([a-z]+)\n\s+port_value: 8443", (ROOT / "envoy/edge.yaml").read_text()))
    assert envoy_hosts == {spec.name for spec in registry.SERVICES} <= set(services)


def test_the_readme_names_every_secret_file_compose_needs(project: dict[str, Any]) -> None:
    readme = (ROOT / "README.md").read_text()
    assert all(f"secrets/{name}" in readme or f" {name} " in readme for name in project["secrets"])
    assert "--profile tls" in readme
