"""Mesh identities: what the certificates carry, that they chain to the CA, and when they are reused."""

from __future__ import annotations

import datetime as dt
import ipaddress
import stat
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID
from cryptography.x509.verification import PolicyBuilder, Store, VerificationError, VerifiedClient

from services.support.mesh.certs import (
    cert_path,
    ensure_ca,
    ensure_mesh_certs,
    issue_certificate,
    key_path,
)
from services.support.mesh.registry import identities, spiffe_id


def load(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


def sans(cert: x509.Certificate) -> x509.SubjectAlternativeName:
    return cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value


def verify_as_client(cert: x509.Certificate, ca_file: Path) -> VerifiedClient:
    """Full chain check as a TLS server does it for a client certificate (raises if it fails)."""
    store = Store([load(ca_file)])
    return PolicyBuilder().store(store).build_client_verifier().verify(cert, [])


def snapshot(cert_dir: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(cert_dir.iterdir())}


@pytest.fixture
def cert_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "certs"
    ensure_mesh_certs(directory, identities())
    return directory


def test_every_identity_gets_a_certificate_and_key(cert_dir: Path) -> None:
    expected = {"ca.pem", "ca-key.pem"} | {f"{i}.pem" for i in identities()} | {f"{i}-key.pem" for i in identities()}
    assert {path.name for path in cert_dir.iterdir()} == expected


@pytest.mark.parametrize("identity", identities())
def test_certificate_carries_the_spiffe_id_and_local_names(cert_dir: Path, identity: str) -> None:
    names = sans(load(cert_path(cert_dir, identity)))
    assert names.get_values_for_type(x509.UniformResourceIdentifier) == [spiffe_id(identity)]
    assert set(names.get_values_for_type(x509.DNSName)) == {identity, "localhost"}
    assert names.get_values_for_type(x509.IPAddress) == [ipaddress.ip_address("127.0.0.1")]


@pytest.mark.parametrize("identity", identities())
def test_certificate_chains_to_the_mesh_ca_for_client_and_server_use(cert_dir: Path, identity: str) -> None:
    cert = load(cert_path(cert_dir, identity))
    verified = verify_as_client(cert, cert_dir / "ca.pem")
    assert verified.chain == [cert, load(cert_dir / "ca.pem")]
    usages = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert set(usages) == {ExtendedKeyUsageOID.CLIENT_AUTH, ExtendedKeyUsageOID.SERVER_AUTH}
    server = PolicyBuilder().store(Store([load(cert_dir / "ca.pem")])).build_server_verifier(x509.DNSName(identity))
    server.verify(cert, [])


def test_certificates_are_valid_for_about_a_year(cert_dir: Path) -> None:
    lifetime = load(cert_path(cert_dir, "loans")).not_valid_after_utc - dt.datetime.now(dt.UTC)
    assert dt.timedelta(days=360) < lifetime <= dt.timedelta(days=366)


def test_private_keys_are_readable_by_the_owner_only(cert_dir: Path) -> None:
    for key_file in [cert_dir / "ca-key.pem", *(key_path(cert_dir, i) for i in identities())]:
        assert stat.S_IMODE(key_file.stat().st_mode) == 0o600, key_file.name


def test_a_second_run_reuses_every_file(cert_dir: Path) -> None:
    before = snapshot(cert_dir)
    ensure_mesh_certs(cert_dir, identities())
    assert snapshot(cert_dir) == before


def test_a_missing_key_is_reissued_without_touching_the_others(cert_dir: Path) -> None:
    before = snapshot(cert_dir)
    key_path(cert_dir, "catalog").unlink()
    ensure_mesh_certs(cert_dir, identities())
    after = snapshot(cert_dir)
    assert after["catalog.pem"] != before["catalog.pem"]
    assert {k: v for k, v in after.items() if not k.startswith("catalog")} == {
        k: v for k, v in before.items() if not k.startswith("catalog")
    }
    verify_as_client(load(cert_path(cert_dir, "catalog")), cert_dir / "ca.pem")


def test_a_certificate_from_another_ca_is_replaced(cert_dir: Path, tmp_path: Path) -> None:
    issue_certificate(cert_dir, "loans", ca_dir=tmp_path / "other-ca")
    with pytest.raises(VerificationError):
        verify_as_client(load(cert_path(cert_dir, "loans")), cert_dir / "ca.pem")
    ensure_mesh_certs(cert_dir, identities())
    verify_as_client(load(cert_path(cert_dir, "loans")), cert_dir / "ca.pem")


def test_a_new_ca_reissues_every_certificate(cert_dir: Path) -> None:
    before = snapshot(cert_dir)
    (cert_dir / "ca.pem").unlink()
    ensure_mesh_certs(cert_dir, identities())
    after = snapshot(cert_dir)
    assert all(after[name] != before[name] for name in before)
    for identity in identities():
        verify_as_client(load(cert_path(cert_dir, identity)), cert_dir / "ca.pem")


def test_a_wrong_ca_is_unrelated_to_the_mesh_ca(cert_dir: Path, tmp_path: Path) -> None:
    wrong_ca = ensure_ca(tmp_path / "wrong")
    assert wrong_ca.read_bytes() != (cert_dir / "ca.pem").read_bytes()
    chain, _key = issue_certificate(tmp_path / "wrong", "loans")
    verify_as_client(load(chain), wrong_ca)
    with pytest.raises(VerificationError):
        verify_as_client(load(chain), cert_dir / "ca.pem")


def test_any_identity_can_be_minted_for_tests(cert_dir: Path) -> None:
    chain, key = issue_certificate(cert_dir, "intruder")
    assert key.exists()
    assert sans(load(chain)).get_values_for_type(x509.UniformResourceIdentifier) == [spiffe_id("intruder")]
    verify_as_client(load(chain), cert_dir / "ca.pem")
