"""When nothing is recorded, a served call's, a published event's and a consumed message's spans are made without
OpenTelemetry's tracer (it cost ~1.5 % of a loaded catalog) and carry what its non-recording spans carried: the
caller's trace id and trace state, a span id of their own, not sampled; a trace's start gets a trace id."""

from __future__ import annotations

import grpc
import pytest
from opentelemetry import trace

from services.support.runtime import tracing

TRACE_ID = "0af7651916cd43dd8448eb211c80319c"
CALLER_SPAN = "b7ad6b7169203331"
CARRIER = {"traceparent": f"00-{TRACE_ID}-{CALLER_SPAN}-00", "tracestate": "library=athenaeum"}


@pytest.fixture(autouse=True)
def nothing_recorded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tracing, "_recording", False)

    def refused(*args: object, **kwargs: object) -> None:
        raise AssertionError("a span was made through OpenTelemetry's tracer")

    monkeypatch.setattr(tracing.tracer, "start_span", refused)
    monkeypatch.setattr(tracing.tracer, "start_as_current_span", refused)


def _ids(span: trace.Span) -> tuple[str, str]:
    found = span.get_span_context()
    return format(found.trace_id, "032x"), format(found.span_id, "016x")


def test_a_served_call_joins_its_callers_trace_with_a_span_of_its_own() -> None:
    span, token = tracing.start_server_span("/athenaeum.catalog.v1.CatalogService/GetBook", {}, dict(CARRIER))
    try:
        assert trace.get_current_span() is span and tracing.current_trace_id() == TRACE_ID
        trace_id, span_id = _ids(span)
        found = span.get_span_context()
        assert trace_id == TRACE_ID and span_id not in (CALLER_SPAN, "0" * 16)
        assert not span.is_recording() and not found.trace_flags.sampled and not found.is_remote
        assert found.trace_state.get("library") == "athenaeum"
    finally:
        tracing.end_server_span(span, token, grpc.StatusCode.OK)
    assert not trace.get_current_span().get_span_context().is_valid


def test_a_call_outside_any_trace_starts_one_each_time() -> None:
    first, token = tracing.start_server_span("/m", {}, None)
    tracing.end_server_span(first, token, grpc.StatusCode.INTERNAL, RuntimeError("boom"))
    second, token = tracing.start_server_span("/m", {}, {})
    tracing.end_server_span(second, token, grpc.StatusCode.OK)
    assert first.get_span_context().is_valid and second.get_span_context().is_valid
    assert _ids(first)[0] != _ids(second)[0]


def test_a_published_event_carries_the_trace_it_was_recorded_in_to_its_consumer() -> None:
    with tracing.publishing("athenaeum.loans.loan_issued.v1", message_id="e1", headers=CARRIER) as headers:
        published = headers["traceparent"]
    assert published.startswith(f"00-{TRACE_ID}-") and CALLER_SPAN not in published
    with tracing.consuming("athenaeum.loans.loan_issued.v1", message_id="e1", headers=headers) as span:
        assert tracing.current_trace_id() == TRACE_ID and trace.get_current_span() is span
        assert _ids(span)[1] != published.split("-")[2]
    assert not trace.get_current_span().get_span_context().is_valid


def test_an_event_recorded_outside_any_trace_starts_its_own_at_the_consumer() -> None:
    with tracing.publishing("athenaeum.users.user_created.v1", message_id="e2", headers={}) as headers:
        assert "traceparent" not in headers
    with tracing.consuming("athenaeum.users.user_created.v1", message_id="e2", headers=headers) as span:
        assert span.get_span_context().is_valid and tracing.current_trace_id() != ""


def test_a_failure_in_a_consumed_message_goes_on_and_ends_the_span() -> None:
    with pytest.raises(ValueError), tracing.consuming("s", message_id="e3", headers=CARRIER):
        raise ValueError("refused")
    assert not trace.get_current_span().get_span_context().is_valid
