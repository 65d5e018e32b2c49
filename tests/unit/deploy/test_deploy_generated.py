"""The deployment files are generated from the registry, are fresh, and follow a registry change."""

from __future__ import annotations

import dataclasses
import filecmp
from pathlib import Path

import pytest
import yaml

from services.support.mesh import compose, compose_observability, containers, deploy, registry
from services.support.mesh.envoy import committed_topology, write_configs

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def fresh(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """What `athenaeum generate` would write now for the deployment files."""
    out = tmp_path_factory.mktemp("generated")
    envoy_dir = out / "envoy"
    write_configs(committed_topology(), envoy_dir)
    deploy.write_generated(ROOT, out, envoy_dir=envoy_dir, descriptor=ROOT / "gen/descriptor/athenaeum.binpb")
    return out


@pytest.mark.parametrize(
    "relative",
    [
        compose.COMPOSE_FILE,
        compose_observability.PROMETHEUS_FILE,
        compose.POSTGRES_INIT_FILE,
        compose.EDGE_TLS_FILE,
        deploy.CHART_VALUES,
    ],
)
def test_committed_file_is_what_the_registry_generates_now(fresh: Path, relative: Path) -> None:
    assert (ROOT / relative).read_text() == (fresh / relative).read_text(), "run `athenaeum generate`"


def test_the_chart_carries_the_current_envoy_configs_and_descriptor(fresh: Path) -> None:
    comparison = filecmp.dircmp(ROOT / deploy.CHART_FILES, fresh / deploy.CHART_FILES)
    stale = comparison.diff_files + comparison.left_only + comparison.right_only
    for sub in comparison.subdirs.values():
        stale += sub.diff_files + sub.left_only + sub.right_only
    assert stale == [], "run `athenaeum generate`"


def test_a_service_added_to_the_registry_appears_in_compose_prometheus_postgres_and_helm(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    shelves = dataclasses.replace(registry.SERVICES[-1], name="shelves", callers=(registry.EDGE,), index=9)
    monkeypatch.setattr(registry, "SERVICES", (*registry.SERVICES, shelves))

    services = compose.compose()["services"]
    targets = [
        t
        for job in compose_observability.prometheus_config()["scrape_configs"]
        for c in job.get("static_configs", [])
        for t in c["targets"]
    ]
    values = yaml.safe_load(deploy.values_with_services((ROOT / deploy.CHART_VALUES).read_text()))

    assert services["shelves"]["command"] == ["python", "-m", "services.shelves.main"]
    assert services["shelves-sidecar"]["network_mode"] == "service:shelves"
    assert "shelves-sidecar" in services["edge"]["depends_on"]
    assert {"shelves:9464", "shelves:15021"} <= set(targets)
    assert "CREATE DATABASE athenaeum_shelves;" in compose.postgres_init_sql(deploy.HEADER)
    assert values["services"][-1] == {
        "name": "shelves",
        "module": "services.shelves.main",
        "database": "athenaeum_shelves",
        "grpcServices": list(shelves.grpc_services),
        "callers": ["edge"],
    }


def test_values_without_the_generated_block_are_refused() -> None:
    with pytest.raises(ValueError, match="no generated services block"):
        deploy.values_with_services("image:\n  repository: athenaeum\n")


def test_the_certs_job_issues_every_identity_and_keeps_the_ca_key_out_of_the_served_directory(tmp_path: Path) -> None:
    from cryptography import x509

    cert_dir, ca_dir = tmp_path / "certs", tmp_path / "ca"
    assert containers.main(["certs", str(cert_dir), "--ca-dir", str(ca_dir)]) == 0

    ca = x509.load_pem_x509_certificate((cert_dir / "ca.pem").read_bytes())
    names = sorted(path.name for path in cert_dir.iterdir())
    for identity in registry.identities():
        cert = x509.load_pem_x509_certificate((cert_dir / f"{identity}.pem").read_bytes())
        cert.verify_directly_issued_by(ca)
        sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        assert registry.spiffe_id(identity) in sans.get_values_for_type(x509.UniformResourceIdentifier)
        assert (cert_dir / f"{identity}-key.pem").stat().st_mode & 0o077 == 0
    assert "ca-key.pem" not in names and (ca_dir / "ca-key.pem").exists()
