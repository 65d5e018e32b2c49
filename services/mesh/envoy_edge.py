"""The edge Envoy: the public REST/JSON + gRPC listener, calling each service's sidecar over mTLS."""

from __future__ import annotations

from services.mesh import registry
from services.mesh.envoy_common import (
    Config,
    admin,
    grpc_route,
    http2_cluster,
    http_connection_manager,
    listener,
    mesh_cluster_name,
    overload_manager,
    upstream_mtls,
)
from services.mesh.topology import Topology

TRANSCODER_TYPE = "type.googleapis.com/envoy.extensions.filters.http.grpc_json_transcoder.v3.GrpcJsonTranscoder"

# Native gRPC services every Athenaeum process serves: routed to one service, whose reflection answers
# for the whole mesh (each runtime registers every service name of the registry).
MESH_WIDE_GRPC_SERVICES = (
    "grpc.reflection.v1alpha.ServerReflection",
    "grpc.reflection.v1.ServerReflection",
    "grpc.health.v1.Health",
)


def edge_config(topology: Topology) -> Config:
    """Bootstrap config of the edge Envoy for `topology`."""
    hcm = http_connection_manager(
        stat_prefix="edge",
        routes=_edge_routes(),
        http_filters=[_transcoder(topology)],
        # The edge is where the outside world comes in: a client-supplied XFCC header would let it
        # pretend to be a mesh identity, so drop it (the sidecars set their own from the TLS peer).
        forward_client_cert_details="SANITIZE",
    )
    return {
        "admin": admin(topology.edge_admin_port),
        "overload_manager": overload_manager(),
        "static_resources": {
            "listeners": [listener("edge", topology.bind_host, topology.edge_port, {"filters": [hcm]})],
            "clusters": [_sidecar_cluster(topology, spec.name) for spec in registry.SERVICES],
        },
    }


def _transcoder(topology: Topology) -> Config:
    return {
        "name": "envoy.filters.http.grpc_json_transcoder",
        "typed_config": {
            "@type": TRANSCODER_TYPE,
            "proto_descriptor": str(topology.descriptor_path),
            "services": [name for spec in registry.SERVICES for name in spec.grpc_services],
            "print_options": {
                "preserve_proto_field_names": True,
                "always_print_primitive_fields": True,
            },
            "convert_grpc_status": True,
            "request_validation_options": {
                "reject_unknown_method": True,
                "reject_unknown_query_parameters": True,
            },
        },
    }


def _edge_routes() -> list[Config]:
    routes = [
        grpc_route(f"/{grpc_service}/", mesh_cluster_name(spec.name))
        for spec in registry.SERVICES
        for grpc_service in spec.grpc_services
    ]
    reflection_owner = mesh_cluster_name(registry.SERVICES[0].name)
    routes += [grpc_route(f"/{name}/", reflection_owner) for name in MESH_WIDE_GRPC_SERVICES]
    return routes


def _sidecar_cluster(topology: Topology, service_name: str) -> Config:
    placement = topology.placement(service_name)
    return http2_cluster(
        mesh_cluster_name(service_name),
        placement.host,
        placement.inbound_port,
        transport_socket=upstream_mtls(topology.cert_dir, identity=registry.EDGE, peer=service_name),
    )
