"""The edge's request ids: a client's well-formed `x-request-id` is kept, any other request gets one the edge
makes; either way the answer carries it back, and every log line of the call names it (the edge's and the
sidecars' access logs, the service's own "rpc" line).

Envoy either keeps every external x-request-id (`preserve_external_request_id`, however long or strange)
or replaces them all. So the edge takes the client's value aside before the connection manager looks
(an early header mutation): with no x-request-id left, Envoy makes a fresh one; then a filter that runs only
when the value set aside is well-formed puts it back. The value set aside never leaves the edge.
"""

from __future__ import annotations

from services.support.mesh.envoy_common import Config

REQUEST_ID_HEADER = "x-request-id"
CLIENT_REQUEST_ID_HEADER = "x-athenaeum-client-request-id"
"""Where the edge keeps the client's x-request-id while Envoy makes its own (removed before any upstream)."""
WELL_FORMED_REQUEST_ID = r"[A-Za-z0-9][A-Za-z0-9._:/+=-]{0,127}"
"""A UUID, a ULID, hex, base64 or a dotted/colon-separated name, up to 128 characters: what a log line and a
header can carry as they are. Anything else (longer, spaces, quotes, control characters) is replaced."""

EARLY_MUTATION_TYPE = (
    "type.googleapis.com/envoy.extensions.http.early_header_mutation.header_mutation.v3.HeaderMutation"
)
MATCHER_TYPE = "type.googleapis.com/envoy.extensions.common.matching.v3.ExtensionWithMatcher"
HEADER_INPUT_TYPE = "type.googleapis.com/envoy.type.matcher.v3.HttpRequestHeaderMatchInput"
SKIP_FILTER_TYPE = "type.googleapis.com/envoy.extensions.filters.common.matcher.action.v3.SkipFilter"
HEADER_MUTATION_TYPE = "type.googleapis.com/envoy.extensions.filters.http.header_mutation.v3.HeaderMutation"
UUID_REQUEST_ID_TYPE = "type.googleapis.com/envoy.extensions.request_id.uuid.v3.UuidRequestIdConfig"


def request_id_settings() -> Config:
    """HCM settings: set the client's id aside before anything else, make a fresh one, answer with it."""
    set_aside = {
        "append": {
            "header": {"key": CLIENT_REQUEST_ID_HEADER, "value": f"%REQ({REQUEST_ID_HEADER})%"},
            "append_action": "OVERWRITE_IF_EXISTS_OR_ADD",
        }
    }
    return {
        "early_header_mutation_extensions": [
            {
                "name": "envoy.http.early_header_mutation.header_mutation",
                "typed_config": {"@type": EARLY_MUTATION_TYPE, "mutations": [set_aside, {"remove": REQUEST_ID_HEADER}]},
            }
        ],
        "always_set_request_id_in_response": True,
        # A client's UUID is given back as it came: Envoy would otherwise write its trace decision into it.
        "request_id_extension": {"typed_config": {"@type": UUID_REQUEST_ID_TYPE, "pack_trace_reason": False}},
    }


def restore_client_request_id_filter() -> Config:
    """The HTTP filter putting a well-formed client id back as x-request-id; skipped for any other value."""
    restore = {
        "append": {
            "header": {"key": REQUEST_ID_HEADER, "value": f"%REQ({CLIENT_REQUEST_ID_HEADER})%"},
            "append_action": "OVERWRITE_IF_EXISTS_OR_ADD",
        }
    }
    well_formed = {
        "input": {"name": "client-request-id", "typed_config": {"@type": HEADER_INPUT_TYPE,
                                                                "header_name": CLIENT_REQUEST_ID_HEADER}},
        "value_match": {"safe_regex": {"google_re2": {}, "regex": WELL_FORMED_REQUEST_ID}},  # xds needs the engine
    }  # fmt: skip
    skip = {"action": {"name": "skip", "typed_config": {"@type": SKIP_FILTER_TYPE}}}
    return {
        "name": "athenaeum.restore_client_request_id",
        "typed_config": {
            "@type": MATCHER_TYPE,
            "extension_config": {
                "name": "envoy.filters.http.header_mutation",
                "typed_config": {"@type": HEADER_MUTATION_TYPE, "mutations": {"request_mutations": [restore]}},
            },
            "xds_matcher": {
                "matcher_list": {
                    "matchers": [{"predicate": {"not_matcher": {"single_predicate": well_formed}}, "on_match": skip}]
                }
            },
        },
    }
