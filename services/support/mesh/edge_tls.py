"""The optional TLS front of the edge in docker-compose (the `tls` profile).

An Envoy that terminates TLS (HTTPS, and gRPC over TLS) with the operator's certificate and hands each request to
the edge over the compose network in the protocol it came in (HTTP/1.1 stays HTTP/1.1, HTTP/2 becomes h2c). It
knows nothing of the API, so the edge's config stays the one the other two ways of running it use; in Kubernetes
the Ingress (or the cloud's load balancer) terminates TLS instead.
"""

from __future__ import annotations

from pathlib import Path

from services.support.mesh import registry
from services.support.mesh.envoy_common import (
    DOWNSTREAM_TLS_TYPE,
    HTTP_OPTIONS_TYPE,
    Config,
    admin,
    admin_cluster,
    grpc_route,
    http_connection_manager,
    listener,
    ops_listener,
    overload_manager,
    socket_address,
)
from services.support.mesh.envoy_connections import handshake_deadline, listener_limits
from services.support.mesh.topology import CONTAINER_ADMIN_PORT, CONTAINER_EDGE_PORT, CONTAINER_OPS_PORT

SERVICE = "edge-tls"
PORT = 8443
CERT_SECRET, KEY_SECRET = "edge-tls-cert", "edge-tls-key"
"""Compose secrets: the certificate chain (PEM) and its private key, as files in the secrets folder."""
UPSTREAM = "edge"


def edge_tls_config(
    *,
    cert: Path,
    key: Path,
    edge: tuple[str, int] = (registry.EDGE, CONTAINER_EDGE_PORT),
    port: int = PORT,
    ops_port: int = CONTAINER_OPS_PORT,
    admin_port: int = CONTAINER_ADMIN_PORT,
    bind: str = "0.0.0.0",
) -> Config:
    """Envoy bootstrap: TLS on `port` (ALPN h2 and http/1.1, TLS 1.2+), every request to the `edge` (host, port);
    the defaults are the container placement."""
    tls = {
        "name": "envoy.transport_sockets.tls",
        "typed_config": {
            "@type": DOWNSTREAM_TLS_TYPE,
            "common_tls_context": {
                "tls_params": {"tls_minimum_protocol_version": "TLSv1_2"},
                "tls_certificates": [
                    {"certificate_chain": {"filename": str(cert)}, "private_key": {"filename": str(key)}}
                ],
                "alpn_protocols": ["h2", "http/1.1"],
            },
        },
    }
    # The edge sees the client's address in X-Forwarded-For, and the client's x-request-id, as it would
    # without this front: the edge decides whether to keep it (envoy_request_ids).
    https = http_connection_manager(
        stat_prefix="edge_tls",
        routes=[grpc_route("/", UPSTREAM)],
        http_filters=[],
        use_remote_address=True,
        preserve_external_request_id=True,
    )
    upstream = {
        "name": UPSTREAM,
        "type": "STRICT_DNS",
        "dns_lookup_family": "V4_PREFERRED",
        "connect_timeout": "2s",
        "load_assignment": {
            "cluster_name": UPSTREAM,
            "endpoints": [{"lb_endpoints": [{"endpoint": {"address": socket_address(*edge)}}]}],
        },
        "typed_extension_protocol_options": {
            "envoy.extensions.upstreams.http.v3.HttpProtocolOptions": {
                "@type": HTTP_OPTIONS_TYPE,
                "use_downstream_protocol_config": {"http_protocol_options": {}, "http2_protocol_options": {}},
            }
        },
    }
    return {
        "admin": admin(admin_port),
        "overload_manager": overload_manager(),
        "layered_runtime": {"layers": [listener_limits("https")]},
        "static_resources": {
            "listeners": [
                listener("https", bind, port, {"filters": [https], "transport_socket": tls, **handshake_deadline()}),
                ops_listener(bind, ops_port),
            ],
            "clusters": [upstream, admin_cluster(admin_port)],
        },
    }


def committed_config() -> Config:
    """The config compose mounts: the certificate and key are the compose secrets, in /run/secrets."""
    return edge_tls_config(cert=Path("/run/secrets") / CERT_SECRET, key=Path("/run/secrets") / KEY_SECRET)
