"""Structured JSON logs and Prometheus metrics (RED per RPC, DB pool, outbox, consumers, caches), shared by every
service."""

from __future__ import annotations

import json
import logging
import sys
import weakref
from bisect import bisect_left
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

import grpc
from opentelemetry import trace
from prometheus_client import REGISTRY, Counter, Gauge, Histogram, Metric, start_http_server
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.registry import Collector

from services.support.runtime import lending

# RPC metrics named and labelled as grpc-ecosystem's go-grpc-prometheus exports them (grpc_code spelled as Go
# spells a code: "NotFound", "Canceled"), so ready-made gRPC dashboards and alerts read them as they are.
_RPC_LABELS = ["grpc_type", "grpc_service", "grpc_method"]
RPC_STARTED = Counter("grpc_server_started_total", "RPCs started on the server.", _RPC_LABELS)
RPC_HANDLED = Counter(
    "grpc_server_handled_total", "RPCs completed on the server, whatever their status.", [*_RPC_LABELS, "grpc_code"]
)
RPC_LATENCY = Histogram(
    "grpc_server_handling_seconds",
    "Time the server took to handle an RPC, to its status.",
    _RPC_LABELS,
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
GRPC_TYPES = {
    "unary_unary": "unary",
    "unary_stream": "server_stream",
    "stream_unary": "client_stream",
    "stream_stream": "bidi_stream",
}
_GO_CODE_NAMES = {"OK": "OK", "CANCELLED": "Canceled"}


def go_code_name(code: grpc.StatusCode) -> str:
    """A status code as Go's grpc/codes names it (the `grpc_code` values dashboards filter on)."""
    name = str(code.name)
    return _GO_CODE_NAMES.get(name) or "".join(part.capitalize() for part in name.split("_"))


class RpcMetrics:
    """The metrics of one method of one kind (a behavior name of grpc.RpcMethodHandler, e.g. "unary_stream"),
    their labelled series looked up once: `labels()` takes a lock and a dict look-up on every call."""

    __slots__ = ("_handled", "_latency", "_started", "labels")

    def __init__(self, labels: tuple[str, str, str]) -> None:
        self.labels = labels
        self._started = RPC_STARTED.labels(*labels)
        self._latency = RPC_LATENCY.labels(*labels)
        self._handled: dict[grpc.StatusCode, Any] = {}

    @classmethod
    def of(cls, full_method: str, kind: str) -> RpcMetrics:
        service, _, method = full_method.lstrip("/").rpartition("/")
        return cls((GRPC_TYPES.get(kind, "unary"), service, method))

    def started(self) -> None:
        self._started.inc()

    def handled(self, code: grpc.StatusCode, seconds: float) -> None:
        counter = self._handled.get(code)
        if counter is None:
            counter = self._handled[code] = RPC_HANDLED.labels(*self.labels, go_code_name(code))
        counter.inc()
        self._latency.observe(seconds)


ADMISSION_LIMIT = Gauge(
    "athenaeum_admission_limit", "Calls from the edge the process lets run at once now (it adapts to latency)."
)
ADMISSION_SHED = Counter(
    "athenaeum_admission_shed_total",
    "Calls from the edge refused at once (RESOURCE_EXHAUSTED) because the service was at capacity.",
    ["grpc_method"],
)
REQUEST_REPEATS = Counter(
    "athenaeum_request_repeats_total",
    "Calls whose request_id was seen before: answered (stored response), refused (stored refusal), recalled "
    "(committed, answered by the use case), in_progress (told to retry), mismatch (another request).",
    ["grpc_method", "outcome"],
)
OUTBOX_BACKLOG = Gauge("athenaeum_outbox_backlog", "Outbox rows committed but not yet published to JetStream.")
OUTBOX_PUBLISHED = Counter("athenaeum_outbox_published_total", "Events the outbox relay published to JetStream.")
OUTBOX_UNPUBLISHABLE = Counter(
    "athenaeum_outbox_unpublishable_total",
    "Events larger than a NATS message may be: set aside (logged) so the events after them still leave.",
)
DEPENDENCY_UP = Gauge(
    "athenaeum_dependency_up",
    "1 while the service's last health check reached the dependency (postgres, nats), else 0.",
    ["dependency"],
)
CONSUMER_UP = Gauge(
    "athenaeum_consumer_up",
    "1 while a JetStream consumer is subscribed and fetching, 0 while it is down.",
    ["consumer"],
)
CONSUMER_RESTARTS = Counter(
    "athenaeum_consumer_restarts_total",
    "Times a JetStream consumer lost its subscription and subscribed again.",
    ["consumer"],
)
CONSUMER_PENDING = Gauge(
    "athenaeum_consumer_pending_messages", "JetStream messages not yet delivered to a durable consumer.", ["consumer"]
)
CONSUMER_MESSAGES = Counter(
    "athenaeum_consumer_messages_total", "Messages handled, by consumer and outcome.", ["consumer", "outcome"]
)

_STANDARD_ATTRS = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}
# Never written out, whatever a caller passes in extra= (a token or a password in a log is a leak).
SECRET_FIELDS = frozenset({"password", "secret", "token", "access_token", "refresh_token", "authorization", "api_key"})
REDACTED = "[redacted]"


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
        entry.update({k: REDACTED for k in entry if k.lower() in SECRET_FIELDS})
        span_context = trace.get_current_span().get_span_context()
        if span_context.is_valid and not entry.get("trace_id"):  # a log line leads to its trace
            entry["trace_id"] = format(span_context.trace_id, "032x")
            entry["span_id"] = format(span_context.span_id, "016x")
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


def start_metrics_endpoint(host: str, port: int) -> None:
    """Serve /metrics for Prometheus on `host` (port 0 leaves it off)."""
    if port:
        start_http_server(port, addr=host, registry=_EXPOSED)


MetricSource = Callable[[], Iterable[Metric]]


class _Exposed(Collector):
    """The process's registry, with the families of its worker processes merged in by name (one block per
    metric name: Prometheus refuses a name twice in one scrape)."""

    def __init__(self) -> None:
        self.sources: list[MetricSource] = []

    def collect(self) -> Iterable[Metric]:
        families = {family.name: family for family in REGISTRY.collect()}
        for source in self.sources:
            for family in source():
                own = families.get(family.name)
                if own is None:
                    families[family.name] = family
                else:
                    own.samples = [*own.samples, *family.samples]
        return list(families.values())


_EXPOSED = _Exposed()


def serve_also(source: MetricSource) -> None:
    """Serve the metrics `source` gives (a worker process's, labelled with its role) on this process's /metrics."""
    if source not in _EXPOSED.sources:
        _EXPOSED.sources.append(source)


def exposed_metrics() -> Iterable[Metric]:
    """What /metrics serves."""
    return _EXPOSED.collect()


class PoolCollector(Collector):
    """Connection-pool gauges of every SQLAlchemy engine in the process, read at scrape time."""

    def __init__(self) -> None:
        self._pools: weakref.WeakValueDictionary[str, Any] = weakref.WeakValueDictionary()

    def watch(self, name: str, pool: Any) -> None:
        """Report `pool` (a sqlalchemy QueuePool) under the label database=`name`."""
        self._pools[name] = pool

    def collect(self) -> Iterator[GaugeMetricFamily]:
        size = GaugeMetricFamily("athenaeum_db_pool_size", "Connections the pool keeps open.", labels=["database"])
        connections = GaugeMetricFamily(
            "athenaeum_db_pool_connections", "Pool connections by state.", labels=["database", "state"]
        )
        for name, pool in list(self._pools.items()):
            if not hasattr(pool, "checkedout"):  # NullPool and friends keep nothing to report
                continue
            lent = lending.idle_in(pool)  # checked out of the pool, but idle: kept for the driver's next use
            size.add_metric([name], pool.size())
            connections.add_metric([name, "checked_out"], pool.checkedout() - lent)
            connections.add_metric([name, "idle"], pool.checkedin() + lent)
            connections.add_metric([name, "overflow"], max(pool.overflow(), 0))
        yield size
        yield connections


DB_POOLS = PoolCollector()
REGISTRY.register(DB_POOLS)


class CacheCollector(Collector):
    """Look-ups of each per-process cache (runtime/followed_cache.py) by result, read at scrape time: the caches
    count their hits and misses as plain integers, so a look-up costs no metric call."""

    def __init__(self) -> None:
        self._caches: weakref.WeakValueDictionary[str, Any] = weakref.WeakValueDictionary()

    def watch(self, name: str, cache: Any) -> None:
        """Report `cache` (anything with `hits` and `misses`) under the label cache=`name`."""
        self._caches[name] = cache

    def collect(self) -> Iterator[CounterMetricFamily]:
        lookups = CounterMetricFamily(
            "athenaeum_cache_lookups", "Look-ups of a per-process cache, by result.", labels=["cache", "result"]
        )
        for name, cache in list(self._caches.items()):
            lookups.add_metric([name, "hit"], cache.hits)
            lookups.add_metric([name, "miss"], cache.misses)
        yield lookups


CACHES = CacheCollector()
REGISTRY.register(CACHES)


class GcPauseCollector(Collector):
    """How long each garbage collection stopped the process, by generation (runtime/heap.py observes them), read
    at scrape time: an observation is plain arithmetic, taking no lock inside the collector's callback."""

    BOUNDS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5)

    def __init__(self) -> None:
        self._counts = [[0] * (len(self.BOUNDS) + 1) for _ in range(3)]  # per generation, per bucket (not cumulative)
        self._sums = [0.0, 0.0, 0.0]

    def observe(self, generation: int, seconds: float) -> None:
        self._counts[generation][bisect_left(self.BOUNDS, seconds)] += 1
        self._sums[generation] += seconds

    def collect(self) -> Iterator[HistogramMetricFamily]:
        pauses = HistogramMetricFamily(
            "athenaeum_gc_pause_seconds",
            "Garbage collections, by generation: how long each stopped the process.",
            labels=["generation"],
        )
        bounds = [*map(str, self.BOUNDS), "+Inf"]
        for generation, counts in enumerate(self._counts):
            cumulative, buckets = 0, []
            for bound, count in zip(bounds, counts, strict=True):
                cumulative += count
                buckets.append((bound, cumulative))
            pauses.add_metric([str(generation)], buckets, self._sums[generation])
        yield pauses


GC_PAUSES = GcPauseCollector()
REGISTRY.register(GC_PAUSES)
