"""A service's sidecar Envoy: mTLS + RBAC in front of the service, and its way out to its upstreams."""

from __future__ import annotations

from services.support.mesh import registry
from services.support.mesh.envoy_common import (
    Config,
    admin,
    admin_cluster,
    admin_pages_listener,
    grpc_route,
    grpc_stream_routes,
    grpc_upload_routes,
    http2_cluster,
    http2_pipe_cluster,
    http_connection_manager,
    listener,
    mesh_cluster_name,
    node,
    ops_listener,
    overload_manager,
    pipe_listener,
)
from services.support.mesh.envoy_connections import handshake_deadline, listener_limits
from services.support.mesh.envoy_edge_headers import sidecar_codec_limits
from services.support.mesh.envoy_mtls import downstream_mtls, upstream_mtls
from services.support.mesh.envoy_resilience import guarded_cluster, outbound_routes
from services.support.mesh.envoy_sidecar_errors import (
    INBOUND_DEADLINE_LEAD,
    inbound_local_replies,
)
from services.support.mesh.topology import Topology
from services.support.runtime.identity import CLAIMS_HEADER

RBAC_TYPE = "type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBAC"
LOCAL_APP_CLUSTER = "local_app"
HEALTH_CHECK = "/grpc.health.v1.Health/Check"
INBOUND = "inbound"


def sidecar_config(service_name: str, topology: Topology) -> Config:
    """Bootstrap config of `service_name`'s sidecar Envoy for `topology`."""
    spec = registry.service(service_name)
    placement = topology.placement(service_name)
    upstreams = registry.upstreams_of(service_name)
    return {
        "node": node(service_name),
        "admin": admin(placement.admin_port, placement.admin_socket),
        "overload_manager": overload_manager(),
        "layered_runtime": {"layers": [listener_limits(INBOUND)]},
        "static_resources": {
            "listeners": [
                _inbound_listener(spec, topology),
                _outbound_listener(spec, upstreams, topology),
                *_ops_listeners(topology, placement.ops_port),
                *([admin_pages_listener(placement.admin_port)] if placement.admin_socket else []),
            ],
            "clusters": [
                http2_pipe_cluster(LOCAL_APP_CLUSTER, placement.app_socket),
                *(_upstream_cluster(spec, upstream.name, topology) for upstream in upstreams),
                *(
                    [admin_cluster(placement.admin_port, placement.admin_socket)]
                    if placement.ops_port or placement.admin_socket
                    else []
                ),
            ],
        },
    }


def _ops_listeners(topology: Topology, ops_port: int) -> list[Config]:
    return [ops_listener(topology.bind_host, ops_port, app_cluster=LOCAL_APP_CLUSTER)] if ops_port else []


def allowed_principals(service_name: str) -> list[str]:
    """The SPIFFE ids the sidecar of `service_name` lets through."""
    return [registry.spiffe_id(caller) for caller in registry.service(service_name).callers]


def _inbound_listener(spec: registry.ServiceSpec, topology: Topology) -> Config:
    hcm = http_connection_manager(
        stat_prefix=f"{spec.name}_inbound",
        routes=[
            *grpc_stream_routes(spec.streaming_methods, LOCAL_APP_CLUSTER),
            *grpc_upload_routes(spec.uploading_methods, LOCAL_APP_CLUSTER),
            grpc_route("/", LOCAL_APP_CLUSTER, header_offset=INBOUND_DEADLINE_LEAD),
        ],
        http_filters=[_rbac(spec.name)],
        # Replace whatever the caller sent with the verified peer certificate's URI SAN, so the
        # service can trust x-forwarded-client-cert to tell who called.
        forward_client_cert_details="SANITIZE_SET",
        set_current_client_cert_details={"uri": True},
        # A request the edge admits (its header cap) is never reset here for its number of headers.
        **sidecar_codec_limits(),
        local_reply_config=inbound_local_replies(spec.name),  # the service down: the documented Status
    )
    return listener(
        INBOUND,
        topology.bind_host,
        topology.placement(spec.name).inbound_port,
        {
            "filters": [hcm],
            "transport_socket": downstream_mtls(topology.cert_dir, identity=spec.name),
            **handshake_deadline(),  # a connection without a mesh certificate holds no place for long
        },
    )


def _rbac(service_name: str) -> Config:
    # A denied identity gets HTTP 403, which Envoy reports to gRPC clients as PERMISSION_DENIED.
    spec = registry.service(service_name)
    peers = [caller for caller in spec.callers if caller != registry.EDGE]
    unlimited = [_principal(registry.spiffe_id(p)) for p in peers if spec.methods_for(p) is None]
    policies: dict[str, Config] = {}
    if unlimited:
        policies["mesh-callers"] = {"permissions": [{"any": True}], "principals": unlimited}
    for peer in peers:
        if (paths := spec.methods_for(peer)) is not None:  # a peer let call only the few methods it needs,
            # and the health check its sidecar makes of ours (without it, it would take us for down)
            policies[f"{peer}-calls"] = {
                "permissions": [{"url_path": {"path": {"exact": path}}} for path in (*paths, HEALTH_CHECK)],
                "principals": [_principal(registry.spiffe_id(peer))],
            }
    if registry.EDGE in spec.callers:
        policies["edge-public-methods"] = {
            "permissions": [_all_but(spec.internal_methods)],
            "principals": [_principal(registry.spiffe_id(registry.EDGE))],
        }
    return {
        "name": "envoy.filters.http.rbac",
        "typed_config": {"@type": RBAC_TYPE, "rules": {"action": "ALLOW", "policies": policies}},
    }


def _principal(spiffe_id: str) -> Config:
    return {"authenticated": {"principal_name": {"exact": spiffe_id}}}


def _all_but(paths: tuple[str, ...]) -> Config:
    """Any request except those to the given gRPC paths (mesh-internal methods)."""
    if not paths:
        return {"any": True}
    return {"not_rule": {"or_rules": {"rules": [{"url_path": {"path": {"exact": path}}} for path in paths]}}}


def _outbound_listener(
    spec: registry.ServiceSpec, upstreams: tuple[registry.ServiceSpec, ...], topology: Topology
) -> Config:
    # Plaintext on a Unix socket only the service's user may open: the sidecar adds the identity, so
    # nothing else may call through it. A peer calls on its own behalf: it forwards no user's claims.
    routes = [route for upstream in upstreams for route in outbound_routes(upstream, mesh_cluster_name(upstream.name))]
    hcm = http_connection_manager(stat_prefix=f"{spec.name}_outbound", routes=routes, http_filters=[])
    hcm["typed_config"]["route_config"]["request_headers_to_remove"] = [CLAIMS_HEADER]
    return pipe_listener("outbound", topology.placement(spec.name).outbound_socket, {"filters": [hcm]})


def _upstream_cluster(spec: registry.ServiceSpec, upstream_name: str, topology: Topology) -> Config:
    placement = topology.placement(upstream_name)
    cluster = http2_cluster(
        mesh_cluster_name(upstream_name),
        placement.host,
        placement.inbound_port,
        transport_socket=upstream_mtls(topology.cert_dir, identity=spec.name, peer=upstream_name),
    )
    return guarded_cluster(cluster)
