"""The events service's settings (ATHENAEUM_EVENTS_* on top of the shared ATHENAEUM_* ones)."""

from __future__ import annotations

from pydantic import Field

from services.support.runtime.settings import BaseServiceSettings


class EventsSettings(BaseServiceSettings):
    store_processes: int = Field(
        1,
        ge=0,
        le=8,
        description="Processes storing accepted batches beside the gRPC one, forked at start so they share its "
        "imported memory (~40 MiB more each, counted once); 0: store in the gRPC one (one core in all).",
    )
    store_workers: int = Field(2, ge=1, le=32, description="Pull consumers storing accepted batches, per process.")
    store_fetch_batches: int = Field(8, ge=1, le=256, description="Batches one worker stores per transaction.")
    store_ack_wait_seconds: float = Field(
        10.0, gt=0, description="A batch a worker took but did not store (it died) is redelivered after this."
    )
    ingest_max_bytes: int = Field(1 << 30, ge=1 << 20, description="The ingestion stream's size; full: refused.")
    audit_fetch: int = Field(256, ge=1, le=4096, description="Domain events per audit transaction.")
    audit_linger_seconds: float = Field(
        0.25,
        ge=0,
        le=5,
        description="After a fetch of fewer than audit_fetch domain events, wait this long: a trickle is stored in "
        "fewer, larger transactions, and the audit trail lags by up to this much (0: store each as it comes).",
    )
    reader_events_per_second: float = Field(
        50.0, gt=0, description="Events a reader may record a second, on average (staff and services: no limit)."
    )
    reader_events_burst: int = Field(
        1000, ge=1, le=100_000, description="Events a reader may record at once, before the rate counts."
    )
    activity_retention_days: int = Field(
        90, ge=1, description="ACTIVITY events older than this are deleted (at the next upkeep)."
    )
    partitions_ahead: int = Field(2, ge=1, le=24, description="Months of partitions made ahead of time.")
    upkeep_interval_seconds: float = Field(3600.0, gt=0, description="How often partitions are kept.")
    watch_heartbeat_seconds: float = Field(10.0, gt=0, description="A watch's heartbeat while nothing comes.")
    watch_buffer: int = Field(10_000, ge=10, description="Events held for a slow watcher before it is cut.")
