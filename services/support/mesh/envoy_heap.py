"""The edge's memory under pressure: Envoy's overload manager watching its heap against a budget.

The edge holds a one-message gRPC call's whole request before passing it on (envoy_edge_framing: up to 4 MiB,
17 MiB for the events service, for up to the 30 s stream duration; a watch's for the 5-minute idle timeout).
A client that opens many such calls and never finishes them is bounded by the rate limits and the connection
cap only, and the edge's container by its memory limit, where the kernel kills the whole process: every
client's calls would end at once. With a heap budget under that limit, as the heap grows toward it the edge
first gives free memory back to the system, then resets the calls holding the most buffered bytes (the
largest first), then drains HTTP/2 connections, and last refuses new requests with 503 (a clean Status,
EDGE_OVERLOADED: envoy_edge_errors) until the pressure passes.
"""

from __future__ import annotations

from services.support.mesh.envoy_common import Config

FIXED_HEAP = "envoy.resource_monitors.fixed_heap"
FIXED_HEAP_TYPE = "type.googleapis.com/envoy.extensions.resource_monitors.fixed_heap.v3.FixedHeapConfig"
MiB = 1 << 20

EDGE_MEMORY_BYTES = 256 * MiB
"""The edge's memory: the Helm chart's default limit of its container (edge.resources.limits.memory), which the
chart turns into the budget below for the limit it is given; docker-compose and one host use this default."""
HEAP_SHARE = (3, 4)
"""The part of its memory the edge's heap may take: the rest is Envoy's code, thread stacks and the memory its
allocator has not returned yet. The chart's athenaeum.edgeHeapBudget computes the same share."""

TRACKED_STREAM_POWER_OF_TWO = 20
"""Calls holding 1 MiB or more of buffers are tracked, in power-of-two classes; only those may be reset."""
SHRINK_HEAP_AT = 0.90
RESET_STREAMS_FROM, RESET_EVERY_TRACKED_STREAM_AT = 0.85, 0.95
"""At 85 % of the budget the edge resets calls holding 128 MiB or more, and as the pressure rises toward 95 %,
calls of each smaller class in turn (a 17 MiB events call from 89 %, a 4 MiB one from 91 %), up to 50 a worker
each time it looks (every 250 ms); at 95 %, every call holding 1 MiB or more."""
DRAIN_CONNECTIONS_AT = 0.95
REFUSE_REQUESTS_AT = 0.98

OUT_OF_OVERLOAD = {"bypass_overload_manager": True}
"""On the edge's operations and admin-pages listeners: readiness and the stats stay readable while the edge
refuses requests for lack of memory, where an operator looks for why; a failed probe would take the only edge
out of its Service, every client then refused by a closed port rather than answered."""


def heap_budget(memory_bytes: int) -> int:
    """The heap the edge may use when its container has `memory_bytes`."""
    numerator, denominator = HEAP_SHARE
    return memory_bytes * numerator // denominator


EDGE_HEAP_BUDGET_BYTES = heap_budget(EDGE_MEMORY_BYTES)


def with_heap_protection(overload_manager: Config, budget_bytes: int) -> Config:
    """`overload_manager` with the fixed-heap monitor at `budget_bytes` and the actions it triggers."""
    monitor = {"name": FIXED_HEAP, "typed_config": {"@type": FIXED_HEAP_TYPE, "max_heap_size_bytes": budget_bytes}}
    return {
        **overload_manager,
        "refresh_interval": "0.25s",
        "resource_monitors": [*overload_manager.get("resource_monitors", []), monitor],
        "buffer_factory_config": {"minimum_account_to_track_power_of_two": TRACKED_STREAM_POWER_OF_TWO},
        "actions": [
            _action("envoy.overload_actions.shrink_heap", {"threshold": {"value": SHRINK_HEAP_AT}}),
            _action(
                "envoy.overload_actions.reset_high_memory_stream",
                {
                    "scaled": {
                        "scaling_threshold": RESET_STREAMS_FROM,
                        "saturation_threshold": RESET_EVERY_TRACKED_STREAM_AT,
                    }
                },
            ),
            _action("envoy.overload_actions.disable_http_keepalive", {"threshold": {"value": DRAIN_CONNECTIONS_AT}}),
            _action("envoy.overload_actions.stop_accepting_requests", {"threshold": {"value": REFUSE_REQUESTS_AT}}),
        ],
    }


def _action(name: str, trigger: Config) -> Config:
    return {"name": name, "triggers": [{"name": FIXED_HEAP, **trigger}]}
