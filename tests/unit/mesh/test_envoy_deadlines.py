"""Every route into a service ends a call that gets no answer: unary calls after the per-call budget (or the
client's grpc-timeout), uploads a minute after they finish sending, streams only when their client ends them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from services.support.mesh import registry
from services.support.mesh.envoy_common import CALL_BUDGET, GRPC_TIMEOUT_HEADER_MAX, ROUTE_TIMEOUT
from services.support.mesh.envoy_sidecar import LOCAL_APP_CLUSTER
from services.support.mesh.envoy_sidecar_errors import INBOUND_DEADLINE_LEAD

ENVOY_DIR = Path(__file__).resolve().parents[3] / "envoy"
STREAMING = {path for spec in registry.SERVICES for path in spec.streaming_methods}
UPLOADING = {path for spec in registry.SERVICES for path in spec.uploading_methods}


def _routes(node: Any) -> Iterator[dict[str, Any]]:
    """Every route of a config that sends calls on to a cluster."""
    if isinstance(node, dict):
        if isinstance(node.get("route"), dict) and "cluster" in node["route"] and "match" in node:
            yield node
        for value in node.values():
            yield from _routes(value)
    elif isinstance(node, list):
        for item in node:
            yield from _routes(item)


@pytest.mark.parametrize("config", ["edge", *(spec.name for spec in registry.SERVICES)])
def test_a_call_that_gets_no_answer_ends(config: str) -> None:
    """A route's `timeout` is ignored for gRPC once a stream duration is set: a unary route with only the
    client's grpc-timeout capped waited for ever when none came (a hung catalog held a REST GetBook for the
    5 minutes of the idle timeout, a gRPC call without a deadline for good)."""
    routes = list(_routes(yaml.safe_load((ENVOY_DIR / f"{config}.yaml").read_text())))
    if config != "edge":  # a sidecar's way in (its way out to peers has a timeout per method, tested elsewhere)
        routes = [r for r in routes if r["route"]["cluster"] == LOCAL_APP_CLUSTER]
    unary = [r for r in routes if r["match"].get("path") not in STREAMING | UPLOADING and "grpc" in str(r["match"])]
    assert unary and UPLOADING and STREAMING
    for route in routes:
        path, action = route["match"].get("path"), route["route"]
        if path in STREAMING:
            assert action["timeout"] == "0s" and "max_stream_duration" not in action, path
        elif path in UPLOADING:  # the minute starts once the upload is sent: a stream duration would cut it
            assert action["timeout"] == ROUTE_TIMEOUT and "max_stream_duration" not in action, path
        elif route in unary:
            duration = action["max_stream_duration"]
            expected = {"max_stream_duration": CALL_BUDGET, "grpc_timeout_header_max": GRPC_TIMEOUT_HEADER_MAX}
            if config != "edge" and route["match"].get("prefix") == "/":  # the way in from the edge
                expected["grpc_timeout_header_offset"] = INBOUND_DEADLINE_LEAD
            assert duration == expected, route["match"]


def test_a_call_without_a_deadline_waits_the_services_own_budget_not_a_minute() -> None:
    """A desk's REST call to a hung service waited 60 s; the services give a call 30 s (their default deadline
    and mutation budget), and the edge's stream duration is that budget."""
    from services.support.runtime.settings import BaseServiceSettings

    fields = BaseServiceSettings.model_fields
    budget = float(CALL_BUDGET.removesuffix("s"))
    assert budget == fields["default_deadline_seconds"].default == fields["mutation_budget_seconds"].default
    assert float(INBOUND_DEADLINE_LEAD.removesuffix("s")) < 1
