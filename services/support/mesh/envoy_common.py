"""Building blocks shared by the edge and sidecar Envoy configurations (plain dicts, dumped as YAML)."""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Any

from services.support.mesh.certs import OWNER_ONLY

Config = dict[str, Any]

HCM_TYPE = "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager"
ROUTER_TYPE = "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router"
HTTP_OPTIONS_TYPE = "type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions"
UPSTREAM_TLS_TYPE = "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext"
DOWNSTREAM_TLS_TYPE = "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext"
CONNECTION_LIMIT_TYPE = (
    "type.googleapis.com/envoy.extensions.resource_monitors.downstream_connections.v3.DownstreamConnectionsConfig"
)
STDOUT_LOG_TYPE = "type.googleapis.com/envoy.extensions.access_loggers.stream.v3.StdoutAccessLog"

# A unary call that has not answered within the per-call budget is stuck: the services' own default deadline
# and mutation budget (BaseServiceSettings.default_deadline_seconds, mutation_budget_seconds: 30 s). A client
# that sends no grpc-timeout (a browser, curl, the REST clients) gets that budget, which the edge forwards as
# the call's grpc-timeout; one that sends its deadline gets that instead, up to an hour.
CALL_BUDGET = "30s"
# A client-streaming upload (an import) gets a minute once it has finished sending (grpc_upload_routes).
ROUTE_TIMEOUT = "60s"
GRPC_TIMEOUT_HEADER_MAX = "3600s"

# The path without its query string: queries carry personal data (the desk's patron search by email, phone
# or card number; a reader's catalogue searches), which the access log must not keep.
ACCESS_LOG_FORMAT = {
    "time": "%START_TIME%",
    "method": "%REQ(:METHOD)%",
    "path": "%PATH(NQ:ORIG_OR_PATH)%",
    "status": "%RESPONSE_CODE%",
    "grpc_status": "%GRPC_STATUS(NUMBER)%",
    "flags": "%RESPONSE_FLAGS%",
    "duration_ms": "%DURATION%",
    "upstream": "%UPSTREAM_CLUSTER%",
    "peer": "%DOWNSTREAM_PEER_URI_SAN%",
    "request_id": "%REQ(X-REQUEST-ID)%",
}


def socket_address(host: str, port: int) -> Config:
    return {"socket_address": {"address": host, "port_value": port}}


def pipe_address(path: Path, *, mode: int | None = None) -> Config:
    """A Unix domain socket; `mode` sets its permissions when Envoy listens on it."""
    pipe: Config = {"path": str(path)}
    if mode is not None:
        pipe["mode"] = mode
    return {"pipe": pipe}


def node(identity: str) -> Config:
    """Who this Envoy is: SDS (the certificates it watches) needs a node id and cluster."""
    return {"id": identity, "cluster": identity}


def admin(port: int, socket: Path | None = None) -> Config:
    """The admin interface can stop the server, drain it, and switch it to a log level that writes request
    headers (bearer tokens among them), so only the mesh's account may reach it: on `socket` (mode 0600, in
    the owner-only run folder) on one host, where `port` serves its read-only pages (`admin_pages_listener`);
    on loopback in a container, where the pod is the boundary."""
    return {"address": pipe_address(socket, mode=OWNER_ONLY) if socket else socket_address("127.0.0.1", port)}


# Without a limit, a flood of idle connections can exhaust file descriptors (Envoy warns at startup).
MAX_DOWNSTREAM_CONNECTIONS = 10_000


def overload_manager() -> Config:
    """Caps downstream connections for the whole process."""
    return {
        "resource_monitors": [
            {
                "name": "envoy.resource_monitors.global_downstream_max_connections",
                "typed_config": {
                    "@type": CONNECTION_LIMIT_TYPE,
                    "max_active_downstream_connections": MAX_DOWNSTREAM_CONNECTIONS,
                },
            }
        ]
    }


ACTIVE_HEALTH_CHECK_AGENT = "Envoy/HC"
"""The user-agent of a sidecar's health checks of its peers (every 2 s each): not worth a log line."""


def access_log() -> list[Config]:
    return [
        {
            "name": "envoy.access_loggers.stdout",
            "filter": {
                "header_filter": {
                    "header": {
                        "name": "user-agent",
                        "string_match": {"exact": ACTIVE_HEALTH_CHECK_AGENT},
                        "invert_match": True,
                    }
                }
            },
            "typed_config": {"@type": STDOUT_LOG_TYPE, "log_format": {"json_format": ACCESS_LOG_FORMAT}},
        }
    ]


def router_filter() -> Config:
    return {"name": "envoy.filters.http.router", "typed_config": {"@type": ROUTER_TYPE}}


# Retried only when the request cannot have reached the service (no connection, refused stream, reset
# before any byte was sent): safe for every method, and what a pod leaving during a rollout looks like.
RETRY_POLICY = {"retry_on": "connect-failure,refused-stream,reset-before-request", "num_retries": 2}


def grpc_route(prefix: str, cluster: str, *, stream_duration: str = CALL_BUDGET, header_offset: str = "") -> Config:
    """Route a gRPC path prefix to a cluster with the mesh's timeouts and safe retries. With a stream duration
    set, Envoy ignores the route's `timeout` for gRPC: without `max_stream_duration` too, a call that sent no
    grpc-timeout waited for an answer for ever (a hung service held a REST call until the idle timeout, 5
    minutes, and a gRPC one without a deadline for good). `header_offset` ends a call that sent its deadline
    that much before it, so this Envoy answers before the one in front of it does."""
    duration = {"max_stream_duration": stream_duration, "grpc_timeout_header_max": GRPC_TIMEOUT_HEADER_MAX}
    if header_offset:
        duration["grpc_timeout_header_offset"] = header_offset
    return {
        "match": {"prefix": prefix},
        "route": {"cluster": cluster, "max_stream_duration": duration, "retry_policy": RETRY_POLICY},
    }


def grpc_upload_routes(paths: tuple[str, ...], cluster: str) -> list[Config]:
    """Routes for client-streaming methods (an import sends for as long as its file takes): the route timeout,
    which starts once the client has finished sending, not a stream duration, which would cut the upload."""
    return [
        {"match": {"path": path}, "route": {"cluster": cluster, "timeout": ROUTE_TIMEOUT, "retry_policy": RETRY_POLICY}}
        for path in paths
    ]


def grpc_stream_routes(paths: tuple[str, ...], cluster: str) -> list[Config]:
    """Routes for server-streaming methods (a watch lasts as long as its client wants): no route timeout,
    which would cut every stream after a minute, and no stream duration taken from the client's
    grpc-timeout: the client ends its own call at its deadline (DEADLINE_EXCEEDED), while a proxy cutting a
    stream whose answer has begun can only reset it, which the client sees as INTERNAL when the proxy's
    timer fires first. The HCM's idle timeout still ends a stream that sends nothing for 5 minutes; such
    services send heartbeats."""
    return [
        {
            "match": {"path": path},
            "route": {"cluster": cluster, "timeout": "0s", "retry_policy": RETRY_POLICY},
        }
        for path in paths
    ]


def http_connection_manager(
    *, stat_prefix: str, routes: list[Config], http_filters: list[Config], **extra: Any
) -> Config:
    """An HCM speaking HTTP/1.1 and HTTP/2 (h2c or h2 over TLS) on the same listener."""
    return {
        "name": "envoy.filters.network.http_connection_manager",
        "typed_config": {
            "@type": HCM_TYPE,
            "stat_prefix": stat_prefix,
            "codec_type": "AUTO",
            "access_log": access_log(),
            "route_config": {
                "name": f"{stat_prefix}_routes",
                "virtual_hosts": [{"name": stat_prefix, "domains": ["*"], "routes": routes}],
            },
            "http_filters": [*http_filters, router_filter()],
            **extra,
        },
    }


def listener(name: str, host: str, port: int, filter_chain: Config) -> Config:
    # Without SO_REUSEPORT (Envoy's default on Linux): a second mesh started on the same ports would share
    # them, each taking half the connections, instead of failing to start ("Address already in use").
    return {
        "name": name,
        "address": socket_address(host, port),
        "filter_chains": [filter_chain],
        "enable_reuse_port": False,
    }


def pipe_listener(name: str, path: Path, filter_chain: Config) -> Config:
    """A listener on a Unix domain socket only its owner may connect to."""
    return {"name": name, "address": pipe_address(path, mode=OWNER_ONLY), "filter_chains": [filter_chain]}


def http2_cluster(name: str, host: str, port: int, *, transport_socket: Config | None = None) -> Config:
    """A cluster speaking HTTP/2 (gRPC) to one endpoint; DNS names are resolved, IPs used as is."""
    cluster = _http2_cluster(name, socket_address(host, port), static=_is_ip(host))
    if not _is_ip(host):
        cluster["dns_lookup_family"] = "V4_PREFERRED"
    if transport_socket is not None:
        cluster["transport_socket"] = transport_socket
    return cluster


def http2_pipe_cluster(name: str, path: Path) -> Config:
    """A cluster speaking HTTP/2 (gRPC) to a process listening on the Unix domain socket `path`."""
    return _http2_cluster(name, pipe_address(path), static=True)


def _http2_cluster(name: str, address: Config, *, static: bool) -> Config:
    return {
        "name": name,
        "type": "STATIC" if static else "STRICT_DNS",
        "connect_timeout": "2s",
        "load_assignment": {
            "cluster_name": name,
            "endpoints": [{"lb_endpoints": [{"endpoint": {"address": address}}]}],
        },
        "typed_extension_protocol_options": {
            "envoy.extensions.upstreams.http.v3.HttpProtocolOptions": {
                "@type": HTTP_OPTIONS_TYPE,
                "explicit_http_config": {"http2_protocol_options": {}},
            }
        },
    }


def mesh_cluster_name(service_name: str) -> str:
    """The cluster that reaches `service_name`'s sidecar inbound listener."""
    return f"mesh_{service_name}"


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


ADMIN_CLUSTER = "envoy_admin"


def admin_cluster(admin_port: int, socket: Path | None = None) -> Config:
    """This Envoy's own admin interface (where `admin` put it) as an upstream, for the operations listener
    and the admin pages (HTTP/1.1)."""
    address = pipe_address(socket) if socket else socket_address("127.0.0.1", admin_port)
    return {
        "name": ADMIN_CLUSTER,
        "type": "STATIC",
        "connect_timeout": "1s",
        "load_assignment": {
            "cluster_name": ADMIN_CLUSTER,
            "endpoints": [{"lb_endpoints": [{"endpoint": {"address": address}}]}],
        },
    }


def ops_listener(host: str, port: int, *, app_cluster: str | None = None) -> Config:
    """Plaintext listener for kubelet probes and Prometheus, which reach a pod on its IP, not on loopback.

    Exposes exactly Envoy's `/ready` and `/stats/prometheus` (never the rest of the admin interface, which
    can stop the server) and, with `app_cluster`, the service's gRPC health, so Kubernetes' native gRPC
    probes reach a service that listens on loopback only.
    """
    routes = _admin_routes(("/ready", "/stats/prometheus"))
    if app_cluster is not None:
        routes.append(grpc_route("/grpc.health.v1.Health/", app_cluster))
    # Probes and scrapes every few seconds would drown the access log: this listener logs nothing.
    hcm = http_connection_manager(stat_prefix="ops", routes=routes, http_filters=[], access_log=[])
    return listener("ops", host, port, {"filters": [hcm]})


READ_ONLY_ADMIN_PAGES = ("/ready", "/stats", "/stats/prometheus", "/clusters", "/certs", "/server_info")
"""What a person or a readiness check reads of an Envoy's admin; nothing here changes the server."""


def admin_pages_listener(port: int) -> Config:
    """Loopback `port` with the admin's read-only pages, for an admin on a socket (`admin`): a process of any
    account may read them, none may stop, drain or reconfigure the server (any other path: 404)."""
    hcm = http_connection_manager(
        stat_prefix="admin_pages", routes=_admin_routes(READ_ONLY_ADMIN_PAGES), http_filters=[], access_log=[]
    )
    return listener("admin_pages", "127.0.0.1", port, {"filters": [hcm]})


def _admin_routes(paths: tuple[str, ...]) -> list[Config]:
    return [{"match": {"path": path}, "route": {"cluster": ADMIN_CLUSTER}} for path in paths]
