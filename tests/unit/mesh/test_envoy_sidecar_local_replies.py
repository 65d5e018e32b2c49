"""A service down behind its live sidecar: the sidecar answers the documented Status, not Envoy's wording."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest
import yaml
from google.rpc import error_details_pb2, status_pb2

from services.support.mesh import registry

ROOT = Path(__file__).resolve().parents[3]


def _inbound_mappers(service: str) -> dict[int, dict[str, Any]]:
    """The committed sidecar config's local reply mappers of its inbound listener, by HTTP status."""
    config = yaml.safe_load((ROOT / "envoy" / f"{service}.yaml").read_text())
    (inbound,) = [item for item in config["static_resources"]["listeners"] if item["name"] == "inbound"]
    manager = inbound["filter_chains"][0]["filters"][0]["typed_config"]
    return {_status_of(mapper["filter"]): mapper for mapper in manager["local_reply_config"]["mappers"]}


def _status_of(matches: dict[str, Any]) -> int:
    """The HTTP status a mapper's filter compares with (alone, or as one filter of an or_filter)."""
    if "or_filter" in matches:
        (status,) = [_status_of(item) for item in matches["or_filter"]["filters"] if "status_code_filter" in item]
        return status
    return matches["status_code_filter"]["comparison"]["value"]["default_value"]


def _reply(mapper: dict[str, Any]) -> tuple[dict[str, str], status_pb2.Status]:
    headers = {item["header"]["key"]: item["header"]["value"] for item in mapper["headers_to_add"]}
    return headers, status_pb2.Status.FromString(base64.b64decode(headers["grpc-status-details-bin"]))


@pytest.mark.parametrize("service", [spec.name for spec in registry.SERVICES])
def test_a_service_that_cannot_be_reached_is_upstream_unavailable_with_a_retry(service: str) -> None:
    mapper = _inbound_mappers(service)[503]
    headers, status = _reply(mapper)
    message = mapper["body_format_override"]["text_format"]  # Envoy's grpc-message for a gRPC caller
    assert headers["grpc-status"] == "14" and (status.code, status.message) == (14, message)
    assert message == f"the {service} service is unavailable for a moment; retry later"
    info, retry = error_details_pb2.ErrorInfo(), error_details_pb2.RetryInfo()
    assert status.details[0].Unpack(info) and status.details[1].Unpack(retry)
    assert (info.reason, info.domain, retry.retry_delay.seconds) == ("UPSTREAM_UNAVAILABLE", "athenaeum.library", 1)


def test_a_timeout_and_a_garbled_answer_carry_their_own_reasons_and_no_retry() -> None:
    mappers = _inbound_mappers("loans")
    for http_status, code, reason in ((504, 4, "UPSTREAM_TIMEOUT"), (502, 14, "UPSTREAM_MALFORMED")):
        headers, status = _reply(mappers[http_status])
        info = error_details_pb2.ErrorInfo()
        assert headers["grpc-status"] == str(code) and status.code == code
        assert len(status.details) == 1 and status.details[0].Unpack(info) and info.reason == reason


def test_a_refusal_of_rbac_keeps_envoys_own_permission_denied() -> None:
    assert 403 not in _inbound_mappers("loans")


@pytest.mark.parametrize("service", [spec.name for spec in registry.SERVICES])
def test_a_hung_service_is_answered_upstream_timeout_whichever_timer_ended_the_call(service: str) -> None:
    """A stream's duration running out (DT) or a route's timeout (UT) is answered by Envoy's own code path; a
    gRPC caller's answer is HTTP 200 with grpc-status 4, so the mapper also keys on the response flags."""
    mapper = _inbound_mappers(service)[504]
    (flags,) = [item for item in mapper["filter"]["or_filter"]["filters"] if "response_flag_filter" in item]
    assert set(flags["response_flag_filter"]["flags"]) == {"DT", "UT"}
    assert mapper["body_format_override"]["text_format"] == f"the {service} service did not answer in time"
