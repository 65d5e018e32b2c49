"""Structured JSON logs and Prometheus RED metrics, shared by every service."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

from prometheus_client import Counter, Histogram, start_http_server

RPC_REQUESTS = Counter("athenaeum_rpc_requests_total", "RPCs handled, by method and status code.", ["method", "code"])
RPC_LATENCY = Histogram(
    "athenaeum_rpc_duration_seconds",
    "RPC handling time, by method.",
    ["method"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)

_STANDARD_ATTRS = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """One JSON object per line; extra= fields are kept as top-level keys."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update({k: v for k, v in record.__dict__.items() if k not in _STANDARD_ATTRS})
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def configure_logging(*, service: str, level: str) -> None:
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    logging.getLogger("athenaeum").info("logging configured", extra={"service": service})


def start_metrics_endpoint(port: int) -> None:
    """Serve /metrics for Prometheus (0 leaves it off)."""
    if port:
        start_http_server(port, addr="0.0.0.0")
