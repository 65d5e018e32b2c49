"""What a sidecar answers by itself when its service cannot: the documented UPSTREAM_UNAVAILABLE (or
UPSTREAM_TIMEOUT, UPSTREAM_MALFORMED), not Envoy's own wording.

A service process that is down or restarting behind a live sidecar makes the sidecar answer the call itself:
every caller of a sidecar speaks gRPC, so that is grpc-status 14 with a grpc-message such as "upstream
connect error or disconnect/reset before headers…" and no details. The edge passes a sidecar's answer through
as a service's (its transcoder turns grpc-status-details-bin into the JSON Status), so the edge's own
local_reply_config never sees it: here the sidecar gives it the same shape as the edge's local replies, with
a plain message naming the service, an ErrorInfo and (for an unavailable one) a RetryInfo. Its mappers are
evaluated for local replies only; a refusal of RBAC (403, PERMISSION_DENIED) keeps Envoy's own answer.
"""

from __future__ import annotations

from services.support.mesh.envoy_common import Config
from services.support.mesh.envoy_edge_errors import UPSTREAM_FAILURES, grpc_reply, status_is, upstream_failure

INBOUND_DEADLINE_LEAD = "0.2s"
"""The sidecar ends a call this much before its grpc-timeout (the caller's deadline, or the edge's per-call
budget, envoy_common.CALL_BUDGET, for a REST client): a hung service (stopped, deadlocked) then gets the
sidecar's UPSTREAM_TIMEOUT. Without the lead the edge's timer for the same deadline, started first, answered
first, with Envoy's "downstream duration timeout" and no details."""


def inbound_local_replies(service: str) -> Config:
    """local_reply_config of `service`'s inbound listener: its upstream failures as documented Statuses."""
    mappers = []
    for status in UPSTREAM_FAILURES:
        code, reason, message, retry_after = upstream_failure(status, f"{service} service")
        matches = status_is("EQ", status, f"sidecar.local_reply_{status}")
        if status == 504:  # the stream's duration ran out (DT), or a route timeout (UT): Envoy's own 504s
            matches = {"or_filter": {"filters": [matches, {"response_flag_filter": {"flags": ["DT", "UT"]}}]}}
        mappers.append(
            {
                "filter": matches,
                **grpc_reply(code, reason, message, retry_after=retry_after),
            }
        )
    return {"mappers": mappers}
