"""Spans into a test module's own in-memory exporter, shared by the tracing tests of this folder: the process has
one tracer provider, installed by whichever of them runs first (OpenTelemetry refuses to replace it)."""

from __future__ import annotations

from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from services.support.runtime.settings import BaseServiceSettings
from services.support.runtime.tracing import configure_tracing


def record_spans(exporter: InMemorySpanExporter, *, service: str, settings: BaseServiceSettings) -> None:
    """Into `exporter`, whether or not another module installed the process's provider first (its spans then
    went to that module's exporter alone, and this one saw none)."""
    provider = trace.get_tracer_provider()
    if isinstance(provider, TracerProvider):
        provider.add_span_processor(SimpleSpanProcessor(exporter))
    else:
        assert configure_tracing(service=service, settings=settings, exporter=exporter) is not None
