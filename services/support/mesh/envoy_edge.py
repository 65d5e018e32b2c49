"""The edge Envoy: the public REST/JSON + gRPC listener, calling each service's sidecar over mTLS."""

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
    http_connection_manager,
    listener,
    mesh_cluster_name,
    node,
    ops_listener,
    overload_manager,
)
from services.support.mesh.envoy_connections import first_bytes_deadline, listener_limits
from services.support.mesh.envoy_docs import MAX_DIRECT_RESPONSE_BYTES, docs_routes
from services.support.mesh.envoy_edge_api import (
    CORS_CLUSTER,
    cors_cluster,
    cors_filter,
    cors_policy,
    cors_route,
)
from services.support.mesh.envoy_edge_errors import json_local_replies
from services.support.mesh.envoy_edge_framing import framing_filter, one_message_routes, whole_requests
from services.support.mesh.envoy_edge_guard import (
    bad_grpc_timeout_route,
    body_limit_filter,
    client_address,
    client_address_header,
    password_in_query_route,
    rate_limit_filter,
    route_rate_limits,
    runtime,
    size_limits,
    transcoder_limits,
    unbuffered,
)
from services.support.mesh.envoy_edge_headers import header_cap_filter, header_cap_replies
from services.support.mesh.envoy_edge_identity import jwks_cluster, jwt_authn_filter, strip_identity_headers_filter
from services.support.mesh.envoy_edge_methods import head_filter, method_routes
from services.support.mesh.envoy_edge_query import query_routes
from services.support.mesh.envoy_heap import OUT_OF_OVERLOAD, with_heap_protection
from services.support.mesh.envoy_mtls import upstream_mtls
from services.support.mesh.envoy_request_ids import (
    request_id_settings,
    restore_client_request_id_filter,
)
from services.support.mesh.envoy_web import add_web_client
from services.support.mesh.topology import Topology

TRANSCODER_TYPE = "type.googleapis.com/envoy.extensions.filters.http.grpc_json_transcoder.v3.GrpcJsonTranscoder"
EDGE_LISTENER = "edge"

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
        routes=[
            password_in_query_route(),
            bad_grpc_timeout_route(),
            *query_routes(),
            *_api_reference_routes(topology),
            *_edge_routes(topology),
            *method_routes(CORS_CLUSTER if topology.cors_origins else None, topology.cors_origins),
            *([cors_route()] if topology.cors_origins else []),
        ],
        # Order matters: answer CORS preflights, cap the headers and a REST body, drop client-supplied claims,
        # then verify the token (which writes the verified claims), make a HEAD the GET it stands for, then
        # transcode REST to gRPC, then count the request against the rate limits of its gRPC method, then
        # wait for a unary gRPC call's whole request and check its framing.
        http_filters=[
            *([cors_filter()] if topology.cors_origins else []),
            restore_client_request_id_filter(),
            header_cap_filter(),
            body_limit_filter(),
            strip_identity_headers_filter(),
            jwt_authn_filter(topology),
            head_filter(),
            _transcoder(topology),
            *([rate_limit_filter()] if topology.rate_limits else []),
            framing_filter(),
        ],
        # The edge is where the outside world comes in: a client-supplied XFCC header would let it
        # pretend to be a mesh identity, so drop it (the sidecars set their own from the TLS peer).
        forward_client_cert_details="SANITIZE",
        local_reply_config={"mappers": [*header_cap_replies(), *json_local_replies()["mappers"]]},
        **size_limits(),
        **client_address(topology.trusted_proxy_hops),
        **request_id_settings(),
    )
    # The web client's routes go first, ahead of the CORS catch-all route; each raises the direct-response
    # size to what its files need.
    add_web_client(hcm, topology)
    _serve_the_api_to_browsers(hcm["typed_config"]["route_config"], topology)
    hcm["typed_config"]["route_config"]["request_headers_to_add"] = client_address_header()
    return {
        "node": node(registry.EDGE),
        "admin": admin(topology.edge_admin_port, topology.edge_admin_socket),
        "overload_manager": with_heap_protection(overload_manager(), topology.edge_heap_budget_bytes),
        "layered_runtime": {"layers": [*runtime()["layers"], listener_limits(EDGE_LISTENER)]},
        "static_resources": {
            "listeners": [
                {
                    **listener(EDGE_LISTENER, topology.bind_host, topology.edge_port, {"filters": [hcm]}),
                    **first_bytes_deadline(),
                },
                *(
                    [{**ops_listener(topology.bind_host, topology.edge_ops_port), **OUT_OF_OVERLOAD}]
                    if topology.edge_ops_port
                    else []
                ),
                *(
                    [{**admin_pages_listener(topology.edge_admin_port), **OUT_OF_OVERLOAD}]
                    if topology.edge_admin_socket
                    else []
                ),
            ],
            "clusters": [
                *(_sidecar_cluster(topology, spec.name) for spec in registry.SERVICES),
                jwks_cluster(topology),
                *([cors_cluster()] if topology.cors_origins else []),
                *(
                    [admin_cluster(topology.edge_admin_port, topology.edge_admin_socket)]
                    if topology.edge_ops_port or topology.edge_admin_socket
                    else []
                ),
            ],
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
            **transcoder_limits(),
            # Form-encoded query strings (`?filter=language+%3D+"ru"`) mean spaces by "+".
            "query_param_unescape_plus": True,
            "request_validation_options": {
                "reject_unknown_method": True,
                "reject_unknown_query_parameters": True,
                # The URL names the resource (AIP-134): a body `name` that differs (PATCH /v1/books/A with
                # {"name": "books/C"}) would otherwise win and change C; refused with 400 instead.
                "reject_binding_body_field_collisions": True,
            },
        },
    }


def _edge_routes(topology: Topology) -> list[Config]:
    routes = [
        route
        for spec in registry.SERVICES
        for route in [
            *grpc_stream_routes(spec.streaming_methods, mesh_cluster_name(spec.name)),
            *grpc_upload_routes(spec.uploading_methods, mesh_cluster_name(spec.name)),
        ]
    ]
    routes += [
        grpc_route(f"/{grpc_service}/", mesh_cluster_name(spec.name))
        for spec in registry.SERVICES
        for grpc_service in spec.grpc_services
    ]
    reflection_owner = mesh_cluster_name(registry.SERVICES[0].name)
    routes += [grpc_route(f"/{name}/", reflection_owner) for name in MESH_WIDE_GRPC_SERVICES]
    limits = route_rate_limits(topology.rate_limits) if topology.rate_limits is not None else {}
    for route in routes:
        route["typed_per_filter_config"] = {**unbuffered(), **limits}
    one_message = one_message_routes()
    return [whole_requests(route, one_message[match]) if (match := _match(route)) in one_message else route
            for route in routes]  # fmt: skip


def _match(route: Config) -> tuple[str, str] | None:
    return next(((key, value) for key, value in route["match"].items() if key in ("prefix", "path")), None)


def _sidecar_cluster(topology: Topology, service_name: str) -> Config:
    placement = topology.placement(service_name)
    return http2_cluster(
        mesh_cluster_name(service_name),
        placement.host,
        placement.inbound_port,
        transport_socket=upstream_mtls(topology.cert_dir, identity=registry.EDGE, peer=service_name),
    )


def _api_reference_routes(topology: Topology) -> list[Config]:
    """/openapi.json and /docs, when the topology has the generated docs folder."""
    return docs_routes(topology.docs_dir) if topology.docs_dir is not None else []


def _serve_the_api_to_browsers(route_config: Config, topology: Topology) -> None:
    """Raise the direct-response size for the docs files, and apply the CORS policy to every route."""
    if topology.docs_dir is not None:
        already = route_config.get("max_direct_response_body_size_bytes", 0)
        route_config["max_direct_response_body_size_bytes"] = max(already, MAX_DIRECT_RESPONSE_BYTES)
    if topology.cors_origins:
        (virtual_host,) = route_config["virtual_hosts"]
        virtual_host["typed_per_filter_config"] = cors_policy(topology.cors_origins)
