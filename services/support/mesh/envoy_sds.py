"""Mesh certificates handed to Envoy through SDS from files, so a renewal is taken without a restart.

Each Envoy reads its certificate and the mesh CA as SDS secrets from small YAML files next to its bootstrap
config (`<identity>-certificate.sds.yaml`, `mesh-ca.sds.yaml`). Those name the PEM files in the certificates
folder and have Envoy watch that folder: when something is moved into it, Envoy reads the files again and
new connections use them (a pair that does not match is refused, and the old one stays in use). Both ways of
renewing move files into place: Kubernetes swaps a Secret volume's `..data` link (cert-manager), and
`certs.rotate_mesh_certs` renames each new file over the old one.

The SDS files live in the folder beside the certificates' one, `<cert_dir>/../envoy`: where the launcher and
the containers keep the Envoy configs.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from services.support.mesh.certs import CA_CERT, cert_path, key_path

Config = dict[str, Any]

SECRET_TYPE = "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret"
CA_SECRET = "mesh_ca"
TRUST_FILE = "mesh-ca.sds.yaml"


def sds_dir(cert_dir: Path) -> Path:
    """Where the SDS files of Envoys using the certificates in `cert_dir` are."""
    return cert_dir.parent / "envoy"


def certificate_file_name(identity: str) -> str:
    return f"{identity}-certificate.sds.yaml"


def certificate_secret(cert_dir: Path, identity: str) -> Config:
    """An entry of `tls_certificate_sds_secret_configs`: `identity`'s certificate and key."""
    return {"name": identity, "sds_config": _source(sds_dir(cert_dir) / certificate_file_name(identity))}


def trust_secret(cert_dir: Path) -> Config:
    """A `validation_context_sds_secret_config`: the mesh CA."""
    return {"name": CA_SECRET, "sds_config": _source(sds_dir(cert_dir) / TRUST_FILE)}


def _source(path: Path) -> Config:
    return {"path_config_source": {"path": str(path)}, "resource_api_version": "V3"}


def sds_documents(cert_dir: Path, identities: Iterable[str]) -> dict[str, Config]:
    """The SDS files (by file name) for Envoys of these identities using the certificates in `cert_dir`."""
    watched = {"path": str(cert_dir)}
    documents = {
        certificate_file_name(identity): _secret(
            identity,
            tls_certificate={
                "certificate_chain": {"filename": str(cert_path(cert_dir, identity))},
                "private_key": {"filename": str(key_path(cert_dir, identity))},
                "watched_directory": watched,
            },
        )
        for identity in identities
    }
    documents[TRUST_FILE] = _secret(
        CA_SECRET,
        validation_context={"trusted_ca": {"filename": str(cert_dir / CA_CERT)}, "watched_directory": watched},
    )
    return documents


def _secret(name: str, **secret: Config) -> Config:
    return {"resources": [{"@type": SECRET_TYPE, "name": name, **secret}]}
