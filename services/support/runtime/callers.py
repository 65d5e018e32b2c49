"""Who is calling: the mesh identity our sidecar attested (x-forwarded-client-cert), and the headers only the
mesh may set (the edge's claims, the client's address), read from a call's metadata in one pass."""

from __future__ import annotations

import contextvars
from typing import Any

from services.support.runtime.identity import CLAIMS_HEADER, CLIENT_ADDRESS_HEADER, ON_BEHALF_HEADER, spiffe_id

# The mesh identity (SPIFFE URI) of the direct caller, as attested by our sidecar's mTLS.
current_caller: contextvars.ContextVar[str] = contextvars.ContextVar("current_caller", default="")
MESH_IDENTITY_PREFIX = spiffe_id("")
"""Only identities of our own trust domain are callers; any other URI is nobody."""

_CLIENT_CERT = "x-forwarded-client-cert"
REQUEST_ID_HEADER = "x-request-id"
MAX_REQUEST_ID_CHARS = 128
"""What the edge lets through (envoy_request_ids); a peer's own calls carry what Envoy made."""
_TRACE_HEADERS = frozenset({"traceparent", "tracestate", "baggage"})


def caller_from_metadata(metadata: tuple[tuple[str, str | bytes], ...]) -> str:
    """The mesh identity (SPIFFE URI) our sidecar attested in x-forwarded-client-cert; "" if called directly
    or by an identity outside the mesh's trust domain.

    Believe it only from a listener that nothing but the sidecar can reach (see `serve`): the sidecar
    replaces whatever a caller sent (SANITIZE_SET), but a raw connection could send anything."""
    for key, value in metadata:
        if key == _CLIENT_CERT and isinstance(value, str):
            return _caller_of(value)
    return ""


def _caller_of(forwarded_cert: str) -> str:
    # Envoy SANITIZE_SET: "By=spiffe://...;URI=spiffe://athenaeum/loans" (the last element is ours).
    for part in forwarded_cert.split(",")[-1].split(";"):
        if part.startswith("URI="):
            uri = part[4:].strip('"')
            name = uri.removeprefix(MESH_IDENTITY_PREFIX)
            return uri if name != uri and name and "/" not in name else ""
    return ""


def read_metadata(metadata: Any, *, trusted: bool) -> tuple[str, str, str, str, str, dict[str, str] | None]:
    """One pass over a call's metadata: the attested caller, the claims, client address and on-behalf headers
    and the request id the edge kept or made (all five "" unless `trusted`: see ServerInterceptor), the trace
    context."""
    caller = claims = address = request_id = on_behalf = ""
    carrier: dict[str, str] | None = None
    for key, value in metadata or ():
        if key in _TRACE_HEADERS and isinstance(value, str):
            carrier = carrier or {}
            carrier[key] = value
        elif not trusted:
            continue
        elif key == _CLIENT_CERT and isinstance(value, str):
            caller = _caller_of(value)
        elif key == CLAIMS_HEADER:
            claims = str(value)
        elif key == CLIENT_ADDRESS_HEADER:
            address = str(value)
        elif key == REQUEST_ID_HEADER:
            request_id = str(value)[:MAX_REQUEST_ID_CHARS]
        elif key == ON_BEHALF_HEADER:
            on_behalf = str(value)
    return caller, claims, address, request_id, on_behalf, carrier
