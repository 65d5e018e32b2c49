"""The edge's error mapping on a real Envoy, for the local replies a running mesh is not made to produce
on demand: a body over a limit (413), a rate limit (429), no healthy upstream (503); and a sidecar's, whose
service cannot be reached or does not answer (a stopped process: a socket that accepts and never replies).

The Envoy here runs the edge's own local_reply_config; the limits are real Envoy filters (buffer,
local_ratelimit), so what is checked is what Envoy answers when such a limit is configured at the edge.
"""

from __future__ import annotations

import base64
import socket
import threading
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from google.rpc import error_details_pb2, status_pb2

from services.support.launcher.envoy_process import EnvoyProcess, start_envoy
from services.support.mesh.envoy import render
from services.support.mesh.envoy_common import (
    Config,
    admin,
    grpc_route,
    http2_cluster,
    http_connection_manager,
    listener,
)
from services.support.mesh.envoy_edge_errors import json_local_replies
from services.support.mesh.envoy_sidecar_errors import (
    INBOUND_DEADLINE_LEAD,
    inbound_local_replies,
)

pytestmark = pytest.mark.integration

BODY_LIMIT = 1024
BUFFER_TYPE = "type.googleapis.com/envoy.extensions.filters.http.buffer.v3.Buffer"
RATE_LIMIT_TYPE = "type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit"
NOWHERE = "nowhere"
ERROR_INFO = "type.googleapis.com/google.rpc.ErrorInfo"
RETRY_INFO = "type.googleapis.com/google.rpc.RetryInfo"
GRPC = {"content-type": "application/grpc", "te": "trailers"}


def _rate_limit(bucket: Config | None) -> Config:
    config: Config = {"@type": RATE_LIMIT_TYPE, "stat_prefix": "limited"}
    if bucket is not None:
        enabled = {"default_value": {"numerator": 100}, "runtime_key": "limited"}
        config.update(token_bucket=bucket, filter_enabled=enabled, filter_enforced=enabled)
    return config


def _hung_listeners(ports: dict[str, int]) -> tuple[list[Config], list[Config]]:
    """A sidecar whose service accepts calls and never answers (kill -STOP), with its real inbound route, and
    an edge-like listener in front of it with the edge's route (the per-call budget, or the caller's deadline)."""
    sidecar = http_connection_manager(
        stat_prefix="hung",
        routes=[grpc_route("/", "stalled", header_offset=INBOUND_DEADLINE_LEAD)],
        http_filters=[],
        local_reply_config=inbound_local_replies("loans"),
    )
    front = http_connection_manager(
        stat_prefix="front",
        routes=[grpc_route("/", "hung_sidecar")],
        http_filters=[],
        local_reply_config=json_local_replies(),
    )
    listeners = [
        listener("hung", "127.0.0.1", ports["hung"], {"filters": [sidecar]}),
        listener("front", "127.0.0.1", ports["front"], {"filters": [front]}),
    ]
    clusters = [
        http2_cluster("stalled", "127.0.0.1", ports["stalled"]),
        http2_cluster("hung_sidecar", "127.0.0.1", ports["hung"]),
    ]
    return listeners, clusters


def _stalled_server() -> tuple[int, socket.socket]:
    """A process that takes connections and never answers on them, as a stopped service's socket does."""
    server = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []

    def accept() -> None:
        while True:
            try:
                held.append(server.accept()[0])
            except OSError:
                return

    threading.Thread(target=accept, daemon=True).start()
    return server.getsockname()[1], server


def _config(port: int, admin_port: int, sidecar_port: int, hung: dict[str, int]) -> Config:
    one_an_hour = {"max_tokens": 1, "tokens_per_fill": 1, "fill_interval": "3600s"}
    routes = [
        {
            "match": {"path": "/limited"},
            "direct_response": {"status": 200, "body": {"inline_string": "ok"}},
            "typed_per_filter_config": {"envoy.filters.http.local_ratelimit": _rate_limit(one_an_hour)},
        },
        {
            "match": {"path": "/limited-grpc"},  # a bucket of its own: tests run in any order
            "direct_response": {"status": 200, "body": {"inline_string": "ok"}},
            "typed_per_filter_config": {"envoy.filters.http.local_ratelimit": _rate_limit(one_an_hour)},
        },
        {"match": {"path": "/nowhere"}, "route": {"cluster": NOWHERE}},
        {"match": {"prefix": "/athenaeum.loans.v1.LoansService/"}, "route": {"cluster": NOWHERE}},
        {"match": {"prefix": "/"}, "direct_response": {"status": 200, "body": {"inline_string": "fine"}}},
    ]
    filters = [
        {"name": "envoy.filters.http.local_ratelimit", "typed_config": _rate_limit(None)},
        {"name": "envoy.filters.http.buffer", "typed_config": {"@type": BUFFER_TYPE, "max_request_bytes": BODY_LIMIT}},
    ]
    hcm = http_connection_manager(
        stat_prefix="edge", routes=routes, http_filters=filters, local_reply_config=json_local_replies()
    )
    empty_cluster = {
        "name": NOWHERE,
        "type": "STATIC",
        "connect_timeout": "1s",
        "load_assignment": {"cluster_name": NOWHERE, "endpoints": []},
    }
    sidecar = http_connection_manager(
        stat_prefix="sidecar",
        routes=[{"match": {"prefix": "/"}, "route": {"cluster": NOWHERE}}],
        http_filters=[],
        local_reply_config=inbound_local_replies("loans"),
    )
    hung_listeners, hung_clusters = _hung_listeners(hung)
    return {
        "admin": admin(admin_port),
        "static_resources": {
            "listeners": [
                listener("edge", "127.0.0.1", port, {"filters": [hcm]}),
                listener("sidecar", "127.0.0.1", sidecar_port, {"filters": [sidecar]}),
                *hung_listeners,
            ],
            "clusters": [empty_cluster, *hung_clusters],
        },
    }


@pytest.fixture(scope="module")
def urls(tmp_path_factory: pytest.TempPathFactory, free_port_source: Iterator[int]) -> Iterator[dict[str, str]]:
    """One Envoy: a listener with the edge's local replies, one with a sidecar's (its service unreachable)."""
    folder: Path = tmp_path_factory.mktemp("local-replies")
    port, admin_port, sidecar_port = next(free_port_source), next(free_port_source), next(free_port_source)
    stalled_port, stalled = _stalled_server()
    hung = {"hung": next(free_port_source), "front": next(free_port_source), "stalled": stalled_port}
    config_file = folder / "edge.yaml"
    config_file.write_text(render(_config(port, admin_port, sidecar_port, hung)))
    envoy: EnvoyProcess = start_envoy(config_file, admin_port=admin_port, log_path=folder / "envoy.log")
    with envoy, stalled:
        yield {
            "edge": f"http://127.0.0.1:{port}",
            "sidecar": f"http://127.0.0.1:{sidecar_port}",
            **{name: f"http://127.0.0.1:{hung[name]}" for name in ("hung", "front")},
        }


@pytest.fixture(scope="module")
def edge_url(urls: dict[str, str]) -> str:
    return urls["edge"]


def _error_info(reason: str) -> list[dict]:
    return [{"@type": ERROR_INFO, "reason": reason, "domain": "athenaeum.library", "metadata": {}}]


def _status(response: httpx.Response) -> dict:
    assert response.headers["content-type"] == "application/json", response.text
    return response.json()


def test_a_body_over_the_limit_is_a_413_resource_exhausted_status(edge_url: str) -> None:
    response = httpx.post(f"{edge_url}/anything", content=b"x" * (BODY_LIMIT * 4))
    assert response.status_code == 413
    assert _status(response) == {"code": 8, "message": "Payload Too Large", "details": _error_info("REQUEST_TOO_LARGE")}


def test_a_rate_limited_call_is_a_429_resource_exhausted_status(edge_url: str) -> None:
    first, second = (httpx.get(f"{edge_url}/limited") for _ in range(2))
    assert first.status_code == 200
    assert second.status_code == 429
    body = _status(second)
    assert body["code"] == 8
    assert body["details"] == [*_error_info("RATE_LIMITED"), {"@type": RETRY_INFO, "retry_delay": "1s"}]


def test_a_rate_limited_grpc_call_carries_its_reason_and_retry_in_the_status_details(edge_url: str) -> None:
    """grpc-status-details-bin holds a Status equal to the call's own code and message (as grpcio-status's
    from_call requires), with the reason and when to retry."""
    _, response = (
        httpx.get(f"{edge_url}/limited-grpc", headers={"content-type": "application/grpc"}) for _ in range(2)
    )
    assert response.headers["grpc-status"] == "8"
    status = status_pb2.Status.FromString(base64.b64decode(response.headers["grpc-status-details-bin"]))
    assert (status.code, status.message) == (8, urllib.parse.unquote(response.headers["grpc-message"]))
    info, retry = error_details_pb2.ErrorInfo(), error_details_pb2.RetryInfo()
    assert status.details[0].Unpack(info) and status.details[1].Unpack(retry)
    assert (info.reason, info.domain, retry.retry_delay.seconds) == ("RATE_LIMITED", "athenaeum.library", 1)


def test_no_healthy_upstream_is_a_503_unavailable_status(edge_url: str) -> None:
    """Not Envoy's wording ("no healthy upstream", "upstream connect error or disconnect/reset before headers.
    retried and the latest reset reason: remote connection failure"): the sidecars' own, with a retry."""
    response = httpx.get(f"{edge_url}/nowhere")
    assert response.status_code == 503
    assert _status(response) == {
        "code": 14,
        "message": "the service is unavailable for a moment; retry later",
        "details": [*_error_info("UPSTREAM_UNAVAILABLE"), {"@type": RETRY_INFO, "retry_delay": "1s"}],
    }


def test_a_grpc_caller_gets_the_status_in_grpc_trailers_not_json(edge_url: str) -> None:
    response = httpx.get(f"{edge_url}/nowhere", headers={"content-type": "application/grpc"})
    assert response.headers["grpc-status"] == "14"
    assert (
        urllib.parse.unquote(response.headers["grpc-message"]) == "the service is unavailable for a moment; retry later"
    )


def test_an_unreachable_service_is_named_by_the_call_s_path_with_a_retry(edge_url: str) -> None:
    response = httpx.post(f"{edge_url}/athenaeum.loans.v1.LoansService/ListLoans", headers=GRPC, content=b"")
    message = urllib.parse.unquote(response.headers["grpc-message"])
    assert (response.headers["grpc-status"], message) == (
        "14",
        "the loans service is unavailable for a moment; retry later",
    )
    status = status_pb2.Status.FromString(base64.b64decode(response.headers["grpc-status-details-bin"]))
    assert (status.code, status.message) == (14, message)
    info, retry = error_details_pb2.ErrorInfo(), error_details_pb2.RetryInfo()
    assert status.details[0].Unpack(info) and status.details[1].Unpack(retry)
    assert (info.reason, retry.retry_delay.seconds) == ("UPSTREAM_UNAVAILABLE", 1)


def test_a_successful_answer_is_left_alone(edge_url: str) -> None:
    response = httpx.get(f"{edge_url}/ok")
    assert response.status_code == 200 and response.text == "fine"


def test_a_sidecar_whose_service_is_down_answers_upstream_unavailable_with_a_retry(urls: dict[str, str]) -> None:
    """The sidecar's callers speak gRPC: the details ride in grpc-status-details-bin, equal to the call's status."""
    response = httpx.post(f"{urls['sidecar']}/athenaeum.loans.v1.LoansService/ListLoans", headers=GRPC, content=b"")
    message = urllib.parse.unquote(response.headers["grpc-message"])
    assert response.headers["grpc-status"] == "14"
    assert message == "the loans service is unavailable for a moment; retry later"
    status = status_pb2.Status.FromString(base64.b64decode(response.headers["grpc-status-details-bin"]))
    assert (status.code, status.message) == (14, message)
    info, retry = error_details_pb2.ErrorInfo(), error_details_pb2.RetryInfo()
    assert status.details[0].Unpack(info) and status.details[1].Unpack(retry)
    assert (info.reason, retry.retry_delay.seconds) == ("UPSTREAM_UNAVAILABLE", 1)


def _timed_out(response: httpx.Response) -> tuple[str, str, str]:
    """(grpc-status, grpc-message, ErrorInfo reason) of a gRPC answer, the reason from its details."""
    message = urllib.parse.unquote(response.headers.get("grpc-message", ""))
    details = response.headers.get("grpc-status-details-bin")
    reason = ""
    if details:
        status = status_pb2.Status.FromString(base64.b64decode(details + "=" * (-len(details) % 4)))
        assert (status.code, status.message) == (int(response.headers["grpc-status"]), message)
        info = error_details_pb2.ErrorInfo()
        reason = info.reason if status.details and status.details[0].Unpack(info) else ""
    return response.headers.get("grpc-status", ""), message, reason


HUNG = ("4", "the loans service did not answer in time", "UPSTREAM_TIMEOUT")


def _call(url: str, headers: dict[str, str]) -> tuple[tuple[str, str, str], float]:
    began = time.monotonic()
    with httpx.Client(http2=False, timeout=90) as client:
        response = client.post(f"{url}/athenaeum.loans.v1.LoansService/ListLoans", headers=headers, content=b"")
    return _timed_out(response), time.monotonic() - began


def test_a_hung_service_behind_the_edge_answers_upstream_timeout_at_the_callers_deadline(
    urls: dict[str, str],
) -> None:
    """The edge's timer for the same deadline starts first: the sidecar ends the call a little before it, so the
    caller reads the documented Status, not Envoy's "downstream duration timeout"."""
    answer, seconds = _call(urls["front"], {**GRPC, "grpc-timeout": "3S"})
    assert answer == HUNG
    assert 2.5 < seconds < 3.5


def test_a_hung_service_answers_a_call_without_a_deadline_within_the_services_own_budget(
    urls: dict[str, str],
) -> None:
    """A REST client at the edge sets no deadline: the edge waited 60 s, then answered "downstream duration
    timeout"; now the edge's per-call budget (the services' own 30 s) rides on as grpc-timeout, and the sidecar
    answers just before it."""
    answer, seconds = _call(urls["front"], GRPC)
    assert answer == HUNG
    assert 29 < seconds < 30.5
