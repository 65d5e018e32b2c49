"""How long a connection may sit idle before it has said anything, and how many one listener may hold.

Every account of a host may connect to the loopback ports of the edge and the sidecars. Envoy's one cap
(MAX_DOWNSTREAM_CONNECTIONS) is shared by all the listeners of a process, and a connection that never started
its TLS handshake (a sidecar) or never sent a byte (the edge, until its idle timeout) used to hold its place:
10,000 idle connections from one local process took a sidecar off the mesh (its health pages unreachable, new
connections from the edge refused) for as long as they were held, and the edge for a minute at a time. So:

- a sidecar's inbound (mTLS) listener closes a connection whose TLS handshake has not finished in
  HANDSHAKE_SECONDS; the edge's TLS front does the same;
- the edge closes a connection that has sent no request line within FIRST_BYTES_SECONDS;
- each public listener may take at most MAX_LISTENER_CONNECTIONS, so that however it is flooded the other
  listeners of the process (a sidecar's outbound socket, the admin pages `athenaeum status` reads, the ops
  port of the probes) keep LISTENER_RESERVE connections of the process's cap.

A flood must now be renewed every few seconds, and the established connections of the mesh (HTTP/2, long
lived) are never among those closed.
"""

from __future__ import annotations

from services.support.mesh.envoy_common import MAX_DOWNSTREAM_CONNECTIONS, Config

HANDSHAKE_SECONDS = 5
"""A TLS handshake on loopback or a cluster network takes milliseconds; a peer that has not finished it in
this long is not a mesh Envoy."""
FIRST_BYTES_SECONDS = 5
"""How long the edge waits for the first line of a request on a new connection (request_headers_timeout
starts only at the first byte, and the idle timeout is a minute)."""
LISTENER_RESERVE = 1_000
MAX_LISTENER_CONNECTIONS = MAX_DOWNSTREAM_CONNECTIONS - LISTENER_RESERVE
HTTP_INSPECTOR_TYPE = "type.googleapis.com/envoy.extensions.filters.listener.http_inspector.v3.HttpInspector"


def handshake_deadline() -> Config:
    """Filter chain settings: a connection whose transport (TLS) handshake is not done in time is closed."""
    return {"transport_socket_connect_timeout": f"{HANDSHAKE_SECONDS}s"}


def first_bytes_deadline() -> Config:
    """Listener settings: the HTTP inspector reads a new connection's first bytes, and a connection that
    sends none in time is closed (not handed on to the HTTP connection manager's minute of idle time)."""
    return {
        "listener_filters": [
            {"name": "envoy.filters.listener.http_inspector", "typed_config": {"@type": HTTP_INSPECTOR_TYPE}}
        ],
        "listener_filters_timeout": f"{FIRST_BYTES_SECONDS}s",
        "continue_on_listener_filters_timeout": False,
    }


def listener_limits(*listeners: str) -> Config:
    """A runtime layer capping each named listener at MAX_LISTENER_CONNECTIONS (counted from the accept, for
    all the workers together; one over is closed at once)."""
    return {
        "name": "listener_limits",
        "static_layer": {
            "envoy": {
                "resource_limits": {
                    "listener": {name: {"connection_limit": MAX_LISTENER_CONNECTIONS} for name in listeners}
                }
            }
        },
    }
