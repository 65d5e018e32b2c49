"""What the ingestion panel of the dashboard draws: accepted/s, stored/s, COPY batch size and time (the
consumers' lag is the runtime's athenaeum_consumer_pending_messages)."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

ACCEPTED = Counter("athenaeum_events_accepted_total", "Events accepted (durable in the ingestion stream).")
STORED = Counter("athenaeum_events_stored_total", "Events written to Postgres (committed), audit included.")
COPY_BATCH_SIZE = Histogram(
    "athenaeum_events_copy_batch_size",
    "Events per COPY into the events table.",
    buckets=(1, 10, 100, 500, 1000, 2000, 5000, 10000, 20000, 50000),
)
COPY_SECONDS = Histogram(
    "athenaeum_events_copy_seconds",
    "Time of one COPY into the events table.",
    buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
