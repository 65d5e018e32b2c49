"""Log lines are one JSON object each, carry the trace they belong to, and never carry a secret."""

from __future__ import annotations

import json
import logging

from opentelemetry.sdk.trace import TracerProvider

from services.support.runtime.telemetry import REDACTED, JsonFormatter


def format_line(message: str, **extra: object) -> dict[str, object]:
    record = logging.LogRecord("athenaeum.rpc", logging.INFO, __file__, 1, message, None, None)
    record.__dict__.update(extra)
    line = JsonFormatter().format(record)
    assert "\n" not in line
    return json.loads(line)


def test_a_line_is_one_json_object_with_its_fields() -> None:
    entry = format_line("rpc", method="/athenaeum.catalog.v1.CatalogService/GetBook", code="OK", duration_ms=1.5)

    assert entry["message"] == "rpc" and entry["level"] == "info" and entry["logger"] == "athenaeum.rpc"
    assert entry["method"] == "/athenaeum.catalog.v1.CatalogService/GetBook"
    assert entry["code"] == "OK" and entry["duration_ms"] == 1.5
    assert "trace_id" not in entry  # outside any span


def test_a_line_written_inside_a_span_names_its_trace() -> None:
    tracer = TracerProvider().get_tracer("test")
    with tracer.start_as_current_span("request") as span:
        entry = format_line("inside")

    assert entry["trace_id"] == format(span.get_span_context().trace_id, "032x")
    assert entry["span_id"] == format(span.get_span_context().span_id, "016x")


def test_secrets_passed_as_fields_are_redacted() -> None:
    entry = format_line("login", user="ada", password="hunter2", Authorization="Bearer abc", refresh_token="r")

    assert entry["user"] == "ada"
    assert entry["password"] == entry["Authorization"] == entry["refresh_token"] == REDACTED
    assert "hunter2" not in json.dumps(entry) and "Bearer abc" not in json.dumps(entry)
