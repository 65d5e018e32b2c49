"""Mutual TLS between the mesh's Envoys: each presents its own identity's certificate and accepts only the
mesh CA's (and, calling out, only the SPIFFE id of the peer it meant to reach)."""

from __future__ import annotations

from pathlib import Path

from services.support.mesh.envoy_common import DOWNSTREAM_TLS_TYPE, UPSTREAM_TLS_TYPE, Config
from services.support.mesh.envoy_sds import certificate_secret, trust_secret
from services.support.mesh.registry import spiffe_id


def mesh_tls_context(cert_dir: Path, identity: str, *, peer: str | None = None) -> Config:
    """A common_tls_context presenting `identity`'s certificate and trusting the mesh CA (and, with `peer`,
    only that SPIFFE id), both read through SDS so that renewed files are taken without a restart."""
    default_validation: Config = {}
    if peer is not None:
        default_validation["match_typed_subject_alt_names"] = [
            {"san_type": "URI", "matcher": {"exact": spiffe_id(peer)}}
        ]
    return {
        "tls_certificate_sds_secret_configs": [certificate_secret(cert_dir, identity)],
        "combined_validation_context": {
            "default_validation_context": default_validation,
            "validation_context_sds_secret_config": trust_secret(cert_dir),
        },
        "alpn_protocols": ["h2"],
    }


def upstream_mtls(cert_dir: Path, *, identity: str, peer: str) -> Config:
    """Present `identity`'s certificate and accept only `peer`'s SPIFFE id, signed by the mesh CA."""
    return {
        "name": "envoy.transport_sockets.tls",
        "typed_config": {
            "@type": UPSTREAM_TLS_TYPE,
            "common_tls_context": mesh_tls_context(cert_dir, identity, peer=peer),
        },
    }


def downstream_mtls(cert_dir: Path, *, identity: str) -> Config:
    """Terminate TLS as `identity` and refuse any client without a certificate from the mesh CA."""
    return {
        "name": "envoy.transport_sockets.tls",
        "typed_config": {
            "@type": DOWNSTREAM_TLS_TYPE,
            "require_client_certificate": True,
            "common_tls_context": mesh_tls_context(cert_dir, identity),
        },
    }
