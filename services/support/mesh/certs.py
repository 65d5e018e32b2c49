"""Development mesh identities: one CA and an ECDSA P-256 certificate per mesh identity.

Every sidecar and the edge present `<identity>.pem` and verify peers against `ca.pem`; the identity
itself is carried as a SPIFFE URI SAN, which is what the sidecars' RBAC matches. These files are made
at run time (never committed) and reused while they are still valid and signed by the CA on disk.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
from collections.abc import Iterable
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from services.support.mesh.registry import TRUST_DOMAIN, spiffe_id

OWNER_ONLY = 0o600
"""A file or socket only its owner may read or open (keys, secrets, admin sockets)."""

CA_CERT = "ca.pem"
CA_KEY = "ca-key.pem"
LEAF_VALIDITY = dt.timedelta(days=365)
CA_VALIDITY = dt.timedelta(days=3650)
# Reissue a little before expiry so a long-running dev mesh never serves an expired certificate.
RENEW_BEFORE = dt.timedelta(days=7)


def cert_path(cert_dir: Path, identity: str) -> Path:
    """Where the certificate of `identity` lives."""
    return cert_dir / f"{identity}.pem"


def key_path(cert_dir: Path, identity: str) -> Path:
    """Where the private key of `identity` lives."""
    return cert_dir / f"{identity}-key.pem"


def ensure_mesh_certs(cert_dir: Path, identities: Iterable[str]) -> None:
    """Create (or reuse) the mesh CA in `cert_dir` and a certificate for each identity."""
    ca_cert, ca_key = _load_or_create_ca(cert_dir)
    for identity in identities:
        if not _leaf_is_reusable(cert_dir, identity, ca_cert):
            _issue(cert_dir, identity, ca_cert, ca_key)


def rotate_mesh_certs(cert_dir: Path, identities: Iterable[str]) -> None:
    """A new key and certificate for each identity from the CA in `cert_dir`, each file moved into place (the
    Envoys watch the folder and take them without a restart: see envoy_sds)."""
    ca_cert, ca_key = _load_or_create_ca(cert_dir)
    for identity in identities:
        _issue(cert_dir, identity, ca_cert, ca_key)


def ensure_ca(ca_dir: Path) -> Path:
    """Create (or reuse) a CA in `ca_dir`; a second call on another dir gives an unrelated CA."""
    _load_or_create_ca(ca_dir)
    return ca_dir / CA_CERT


def issue_certificate(cert_dir: Path, identity: str, *, ca_dir: Path | None = None) -> tuple[Path, Path]:
    """Mint a fresh certificate for any identity, signed by the CA in `ca_dir` (default: `cert_dir`)."""
    ca_cert, ca_key = _load_or_create_ca(ca_dir or cert_dir)
    cert_dir.mkdir(parents=True, exist_ok=True)
    _issue(cert_dir, identity, ca_cert, ca_key)
    return cert_path(cert_dir, identity), key_path(cert_dir, identity)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _load_or_create_ca(ca_dir: Path) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    ca_dir.mkdir(parents=True, exist_ok=True)
    try:
        cert = x509.load_pem_x509_certificate((ca_dir / CA_CERT).read_bytes())
        key = serialization.load_pem_private_key((ca_dir / CA_KEY).read_bytes(), password=None)
    except (OSError, ValueError):
        return _create_ca(ca_dir)
    if isinstance(key, ec.EllipticCurvePrivateKey) and key.public_key() == cert.public_key() and _still_valid(cert):
        return cert, key
    return _create_ca(ca_dir)


def _create_ca(ca_dir: Path) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    # A random serial in the CN keeps two dev CAs distinguishable (the "wrong CA" of the tests).
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, TRUST_DOMAIN),
            x509.NameAttribute(NameOID.COMMON_NAME, f"{TRUST_DOMAIN} dev mesh CA {x509.random_serial_number():x}"),
        ]
    )
    now = _now()
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + CA_VALIDITY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    _write_pair(ca_dir / CA_CERT, ca_dir / CA_KEY, cert, key)
    return cert, key


def _issue(cert_dir: Path, identity: str, ca_cert: x509.Certificate, ca_key: ec.EllipticCurvePrivateKey) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    now = _now()
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, identity)]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(min(now + LEAF_VALIDITY, ca_cert.not_valid_after_utc))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.SubjectAlternativeName(
                [
                    x509.UniformResourceIdentifier(spiffe_id(identity)),
                    x509.DNSName(identity),
                    x509.DNSName("localhost"),
                    x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                ]
            ),
            critical=False,
        )
        .add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]),
            critical=False,
        )
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    _write_pair(cert_path(cert_dir, identity), key_path(cert_dir, identity), cert, key)


def _leaf_is_reusable(cert_dir: Path, identity: str, ca_cert: x509.Certificate) -> bool:
    try:
        cert = x509.load_pem_x509_certificate(cert_path(cert_dir, identity).read_bytes())
        key = serialization.load_pem_private_key(key_path(cert_dir, identity).read_bytes(), password=None)
    except (OSError, ValueError):
        return False
    return (
        key.public_key() == cert.public_key()
        and _still_valid(cert)
        and _signed_by(cert, ca_cert)
        and spiffe_id(identity) in _uri_sans(cert)
    )


def _still_valid(cert: x509.Certificate) -> bool:
    now = _now()
    return cert.not_valid_before_utc <= now and now + RENEW_BEFORE < cert.not_valid_after_utc


def _signed_by(cert: x509.Certificate, ca_cert: x509.Certificate) -> bool:
    try:
        cert.verify_directly_issued_by(ca_cert)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def _uri_sans(cert: x509.Certificate) -> list[str]:
    try:
        sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return []
    return sans.get_values_for_type(x509.UniformResourceIdentifier)


def _write_pair(cert_file: Path, key_file: Path, cert: x509.Certificate, key: ec.EllipticCurvePrivateKey) -> None:
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    write_atomically(key_file, key_pem, mode=OWNER_ONLY)
    write_atomically(cert_file, cert.public_bytes(serialization.Encoding.PEM), mode=0o644)


def write_atomically(path: Path, data: bytes, *, mode: int) -> None:
    """`data` into `path`, whole or not at all, with `mode` from the first byte."""
    # Write then rename, so a concurrently starting Envoy never reads half a file; the key is
    # created with its final mode, so it is never readable by others, even for an instant.
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.chmod(tmp, mode)
    os.replace(tmp, path)
