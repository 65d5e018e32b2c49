"""A sidecar's way out to its peers: per-method timeouts and retries, circuit breakers, outlier detection."""

from __future__ import annotations

from typing import Any

from mesh_helpers import loopback_topology

from services.loans.settings import LoansSettings
from services.support.mesh import registry
from services.support.mesh.envoy_common import RETRY_POLICY
from services.support.mesh.envoy_resilience import SAFE_RETRY_POLICY
from services.support.mesh.envoy_sidecar import sidecar_config

CATALOG = "/athenaeum.catalog.v1.CatalogService"


def _loans_sidecar() -> dict[str, Any]:
    return sidecar_config("loans", loopback_topology(23000))


def _outbound_routes() -> dict[str, dict[str, Any]]:
    config = _loans_sidecar()
    (outbound,) = [item for item in config["static_resources"]["listeners"] if item["name"] == "outbound"]
    (vhost,) = outbound["filter_chains"][0]["filters"][0]["typed_config"]["route_config"]["virtual_hosts"]
    return {route["match"].get("path") or route["match"]["prefix"]: route["route"] for route in vhost["routes"]}


def test_reads_and_deduplicated_mutations_are_retried_when_the_peer_was_unavailable() -> None:
    routes = _outbound_routes()
    assert routes[f"{CATALOG}/GetBook"]["retry_policy"] == SAFE_RETRY_POLICY
    assert routes[f"{CATALOG}/CheckOutCopy"]["retry_policy"] == SAFE_RETRY_POLICY  # it carries a request_id
    assert "unavailable" in SAFE_RETRY_POLICY["retry_on"]


def test_other_calls_are_retried_only_when_they_cannot_have_reached_the_peer() -> None:
    routes = _outbound_routes()
    assert routes[f"{CATALOG}/"]["retry_policy"] == RETRY_POLICY
    assert "unavailable" not in RETRY_POLICY["retry_on"] and "5xx" not in RETRY_POLICY["retry_on"]


def test_every_method_has_a_timeout_shorter_than_the_callers_deadline() -> None:
    routes = _outbound_routes()
    for path, route in routes.items():
        assert float(route["timeout"].rstrip("s")) < LoansSettings().peer_timeout_seconds, path
        assert "max_stream_duration" not in route, path  # the sidecar, not the caller, ends a stuck call
    assert (
        routes[f"{CATALOG}/GetBook"]["timeout"]
        == routes["/athenaeum.users.v1.UsersService/GetBorrowingEligibility"]["timeout"]
        == "4s"
    )


def test_every_peer_cluster_has_breakers_a_retry_budget_and_outlier_detection_without_panic() -> None:
    clusters = {c["name"]: c for c in _loans_sidecar()["static_resources"]["clusters"]}
    for upstream in registry.upstreams_of("loans"):
        cluster = clusters[f"mesh_{upstream.name}"]
        (threshold,) = cluster["circuit_breakers"]["thresholds"]
        assert threshold["max_requests"] > 0 and threshold["retry_budget"]["budget_percent"]["value"] == 20.0
        assert cluster["outlier_detection"]["consecutive_local_origin_failure"] == 5
        assert cluster["common_lb_config"]["healthy_panic_threshold"]["value"] == 0.0
    assert "outlier_detection" not in clusters["local_app"]  # the service's own traffic is left alone


def test_only_a_peer_that_does_not_answer_is_ejected_not_one_that_answers_unavailable() -> None:
    """A catalog whose database restarts answers UNAVAILABLE (503 to Envoy) for a second; ejecting it would
    keep loans from it for 5-15 s after the database is back."""
    clusters = {c["name"]: c for c in _loans_sidecar()["static_resources"]["clusters"]}
    detection = clusters["mesh_catalog"]["outlier_detection"]
    assert detection["split_external_local_origin_errors"] is True
    assert detection["enforcing_consecutive_local_origin_failure"] == 100
    answered = ("enforcing_consecutive_5xx", "enforcing_consecutive_gateway_failure", "enforcing_success_rate")
    assert all(detection[name] == 0 for name in answered)


def test_a_hung_peer_is_found_by_asking_its_process_not_its_dependencies() -> None:
    """Outlier detection resets its count of timeouts whenever a new call reaches the peer, so under steady
    traffic it never ejects a peer that hangs: an active check of the peer's liveness does."""
    clusters = {c["name"]: c for c in _loans_sidecar()["static_resources"]["clusters"]}
    for upstream in registry.upstreams_of("loans"):
        (check,) = clusters[f"mesh_{upstream.name}"]["health_checks"]
        assert check["grpc_health_check"]["service_name"] == "liveness"  # SERVING while the process runs
        seconds = {name: float(check[name].rstrip("s")) for name in ("timeout", "interval", "no_traffic_interval")}
        assert seconds["timeout"] < seconds["interval"] <= 2.0 and seconds["no_traffic_interval"] <= 2.0
        # Out after two unanswered checks: well before a call's own 4 s timeout would tell, twice.
        assert check["unhealthy_threshold"] * seconds["interval"] <= 4.0 and check["healthy_threshold"] == 1
