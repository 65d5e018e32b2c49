"""How a sidecar calls its service's peers without being dragged down by one: its outbound side.

- Per method, a timeout and a retry policy: calls that are
  safe to repeat (reads, and mutations that carry a `request_id`, which the peer deduplicates) are retried
  when the peer was unavailable or the stream was reset; any other call only when it cannot have reached the
  peer at all (envoy_common.RETRY_POLICY). Retries draw on a budget: at most a fifth of the calls in flight.
- Per peer cluster, circuit breakers (caps on connections, pending and concurrent calls: beyond them a call
  fails at once instead of queueing), outlier detection (a peer that keeps refusing or resetting is ejected for
  a while) and an active health check of the peer's process (`liveness`): a peer that does not answer it, a
  hung one, is out of the balancing set within a few seconds, so calls fail fast (UNAVAILABLE) instead of each
  waiting out its deadline. No panic routing: with every endpoint out the sidecar answers at once rather than
  trying them anyway.

What counts as a read comes from the protos (a method bound to GET), like the edge's rate-limit classes.
"""

from __future__ import annotations

from google.api import annotations_pb2
from google.protobuf.descriptor import MethodDescriptor

from services.support.mesh import registry
from services.support.mesh.envoy_common import RETRY_POLICY, Config, grpc_stream_routes
from services.support.runtime.access import service_descriptor
from services.support.runtime.probes import LIVENESS_SERVICE

READ_TIMEOUT = "4s"
WRITE_TIMEOUT = "4.5s"
"""How long the sidecar waits for a peer, whatever deadline the caller set (it is forwarded, and the peer's
sidecar honours it; a caller is free to give up sooner). A call that takes longer is stuck. Shorter than the
callers' own deadlines (loans waits 5 s), so the sidecar gives up first: the peer's silence then counts
against it in outlier detection, where a caller's cancel would not."""
SAFE_RETRY_POLICY = {
    "retry_on": "unavailable,reset,connect-failure,refused-stream",
    "num_retries": 2,
    "retry_back_off": {"base_interval": "0.025s", "max_interval": "0.25s"},
}
RETRY_BUDGET = {"budget_percent": {"value": 20.0}, "min_retry_concurrency": 3}
MAX_CONNECTIONS = 64
MAX_PENDING_REQUESTS = 64
MAX_REQUESTS = 256
"""Concurrent calls to one peer: far beyond what a service's own database pool lets it serve at once."""
OUTLIER_DETECTION = {
    # Only a peer that does not answer is ejected: refused connections, resets and timeouts (locally
    # originated errors). A peer that answers UNAVAILABLE because its own database is down for a moment is
    # answering, and fast: ejecting it would make its outage outlast the database's by the ejection time
    # (5 s, 10 s, 15 s as ejections repeat), an outage of its own after everything is back.
    "split_external_local_origin_errors": True,
    "consecutive_local_origin_failure": 5,
    "enforcing_consecutive_local_origin_failure": 100,
    "enforcing_consecutive_5xx": 0,
    "enforcing_consecutive_gateway_failure": 0,
    "enforcing_success_rate": 0,
    "enforcing_local_origin_success_rate": 0,
    "interval": "1s",
    "base_ejection_time": "5s",
    # A peer ejected again is ejected longer (5 s times the ejections); with one endpoint an ejection is an
    # outage of its own after the peer is back, so it is kept short.
    "max_ejection_time": "15s",
    "max_ejection_percent": 100,
}
LIVENESS_CHECK = {
    # Outlier detection cannot see a hung peer under steady traffic: each call that reaches the peer counts as
    # a local-origin success when its stream opens, which resets the count of timeouts before it reaches five.
    # So the sidecar asks the peer's process itself, through the peer's sidecar, every two seconds: two checks
    # unanswered for a second each take it out; the first answer puts it back. `liveness` is SERVING while the
    # process runs, whatever its database says: a peer whose database is down still answers, and fast.
    "timeout": "1s",
    "interval": "2s",
    "no_traffic_interval": "2s",  # not the default minute: a peer that was down at start is back within 2 s
    "unhealthy_threshold": 2,
    "healthy_threshold": 1,
    "grpc_health_check": {"service_name": LIVENESS_SERVICE},
}


READ_VERBS = ("Get", "List", "Lookup", "Search")
"""AIP's read methods, for mesh-internal methods that have no HTTP binding to tell."""


def is_read(method: MethodDescriptor) -> bool:
    """Bound to GET, or, with no HTTP binding (mesh-internal), named as a read."""
    pattern = method.GetOptions().Extensions[annotations_pb2.http].WhichOneof("pattern")
    return pattern == "get" or (pattern is None and method.name.startswith(READ_VERBS))


def is_safe_to_retry(method: MethodDescriptor) -> bool:
    """A read, or a mutation the peer deduplicates by its `request_id`."""
    return is_read(method) or "request_id" in method.input_type.fields_by_name


def outbound_routes(upstream: registry.ServiceSpec, cluster: str) -> list[Config]:
    """One route per method of `upstream`, with the timeout and retry policy its kind allows, then a catch-all
    per gRPC service (a method this build does not know still gets the peer's own answer)."""
    routes: list[Config] = []
    for name in upstream.grpc_services:
        for method in service_descriptor(name).methods:
            if method.server_streaming:  # a watch lasts as long as its caller wants: no timeout
                routes += grpc_stream_routes((f"/{name}/{method.name}",), cluster)
                continue
            timeout = READ_TIMEOUT if is_read(method) else WRITE_TIMEOUT
            routes.append(_route({"path": f"/{name}/{method.name}"}, cluster, timeout, safe=is_safe_to_retry(method)))
        routes.append(_route({"prefix": f"/{name}/"}, cluster, WRITE_TIMEOUT, safe=False))
    return routes


def _route(match: Config, cluster: str, timeout: str, *, safe: bool) -> Config:
    return {
        "match": match,
        "route": {
            "cluster": cluster,
            "timeout": timeout,
            "retry_policy": SAFE_RETRY_POLICY if safe else RETRY_POLICY,
        },
    }


def guarded_cluster(cluster: Config) -> Config:
    """A peer cluster with circuit breakers, a retry budget and outlier detection, without panic routing."""
    return {
        **cluster,
        "circuit_breakers": {
            "thresholds": [
                {
                    "priority": "DEFAULT",
                    "max_connections": MAX_CONNECTIONS,
                    "max_pending_requests": MAX_PENDING_REQUESTS,
                    "max_requests": MAX_REQUESTS,
                    "retry_budget": RETRY_BUDGET,
                    "track_remaining": True,
                }
            ]
        },
        "outlier_detection": OUTLIER_DETECTION,
        "health_checks": [LIVENESS_CHECK],
        "common_lb_config": {"healthy_panic_threshold": {"value": 0.0}},
    }
