"""The edge's heap budget, as generated: the overload manager watches its heap as well as its connections, and
sheds the calls holding the most memory before it refuses anyone; its probes and stats stay out of it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mesh_helpers import loopback_topology

from services.support.mesh import envoy_heap, registry
from services.support.mesh.envoy_common import MAX_DOWNSTREAM_CONNECTIONS
from services.support.mesh.envoy_edge import edge_config
from services.support.mesh.envoy_edge_errors import OVERLOADED_MESSAGE, json_local_replies
from services.support.mesh.envoy_heap import EDGE_HEAP_BUDGET_BYTES, FIXED_HEAP, MiB
from services.support.mesh.envoy_sidecar import sidecar_config
from services.support.mesh.topology import container_topology

TOPOLOGY = loopback_topology(22300)


def _thresholds(manager: dict[str, Any]) -> dict[str, Any]:
    """Each action's trigger on the heap monitor (threshold value, or (scaling, saturation))."""
    found: dict[str, Any] = {}
    for action in manager["actions"]:
        (trigger,) = action["triggers"]
        assert trigger["name"] == FIXED_HEAP
        scaled = trigger.get("scaled")
        found[action["name"].removeprefix("envoy.overload_actions.")] = (
            (scaled["scaling_threshold"], scaled["saturation_threshold"]) if scaled else trigger["threshold"]["value"]
        )
    return found


def test_the_edge_watches_its_heap_against_its_budget_and_keeps_its_connection_cap() -> None:
    manager = edge_config(loopback_topology(22300, edge_heap_budget_bytes=300 * MiB))["overload_manager"]

    monitors = {monitor["name"]: monitor["typed_config"] for monitor in manager["resource_monitors"]}
    assert monitors[FIXED_HEAP]["max_heap_size_bytes"] == 300 * MiB
    connections = monitors["envoy.resource_monitors.global_downstream_max_connections"]
    assert connections["max_active_downstream_connections"] == MAX_DOWNSTREAM_CONNECTIONS


def test_by_default_the_budget_is_three_quarters_of_the_chart_s_default_memory_limit() -> None:
    assert envoy_heap.heap_budget(256 * MiB) == EDGE_HEAP_BUDGET_BYTES
    assert TOPOLOGY.edge_heap_budget_bytes == EDGE_HEAP_BUDGET_BYTES
    assert envoy_heap.heap_budget(512 * MiB) == 384 * MiB


def test_as_the_heap_fills_the_edge_frees_then_resets_the_largest_calls_then_drains_and_last_refuses() -> None:
    thresholds = _thresholds(edge_config(TOPOLOGY)["overload_manager"])

    assert list(thresholds) == [
        "shrink_heap",
        "reset_high_memory_stream",
        "disable_http_keepalive",
        "stop_accepting_requests",
    ]
    reset_from, reset_all_at = thresholds["reset_high_memory_stream"]
    assert reset_from < thresholds["shrink_heap"] < reset_all_at <= thresholds["disable_http_keepalive"]
    assert thresholds["disable_http_keepalive"] < thresholds["stop_accepting_requests"] < 1


def test_every_call_the_edge_holds_whole_is_large_enough_to_be_tracked_for_a_reset() -> None:
    """reset_high_memory_stream resets only calls whose buffers reach the tracked size; a held 4 MiB call does."""
    manager = edge_config(TOPOLOGY)["overload_manager"]

    tracked_from = 1 << manager["buffer_factory_config"]["minimum_account_to_track_power_of_two"]
    assert tracked_from <= min(spec.max_message_bytes for spec in registry.SERVICES)
    assert tracked_from >= 64 * 1024  # not every ordinary call


def test_readiness_and_stats_stay_out_of_the_overload_manager_and_the_public_listener_does_not() -> None:
    in_containers = container_topology(cert_dir=Path("c"), descriptor_path=Path("d"))
    listeners = {item["name"]: item for item in edge_config(in_containers)["static_resources"]["listeners"]}
    local = {item["name"]: item for item in edge_config(TOPOLOGY)["static_resources"]["listeners"]}

    assert listeners["ops"]["bypass_overload_manager"] is True
    assert local["admin_pages"]["bypass_overload_manager"] is True
    assert "bypass_overload_manager" not in listeners["edge"]


def test_only_the_edge_sheds_load_for_its_heap() -> None:
    sidecar = sidecar_config(registry.SERVICES[0].name, TOPOLOGY)["overload_manager"]

    assert [monitor["name"] for monitor in sidecar["resource_monitors"]] == [
        "envoy.resource_monitors.global_downstream_max_connections"
    ]


def test_a_refusal_for_lack_of_memory_is_mapped_before_the_503s_that_blame_a_service() -> None:
    texts = [str(mapper) for mapper in json_local_replies()["mappers"]]

    overloaded = [index for index, text in enumerate(texts) if 'code_details == "overload"' in text]
    blaming = [index for index, text in enumerate(texts) if "edge.upstream_503" in text]
    assert len(overloaded) == 2 and max(overloaded) < min(blaming)
    assert all(OVERLOADED_MESSAGE in texts[index] for index in overloaded)
