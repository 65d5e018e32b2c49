"""What events ingestion is measured against (events_ingest.py): the same rows COPYed straight into Postgres
with asyncpg, and the two ways the journal could have been written to JetStream (a message per event, or per
batch as the service does)."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from costs import cpu_seconds, process_tree

from athenaeum.events.v1 import events_pb2
from services.support.launcher.postgres import asyncpg_dsn

RAW_DDL = """CREATE UNLOGGED TABLE IF NOT EXISTS bench_raw_copy (LIKE events INCLUDING DEFAULTS);
TRUNCATE bench_raw_copy"""


async def raw_copy(database_url: str, payloads: list[bytes], postgres_pid: int) -> tuple[float, float]:
    """Rows/s of asyncpg COPY of the same events (decoded first, not timed) into a plain table, and its CPU
    ms per 1,000 rows (this client and every Postgres backend)."""
    import asyncpg

    from services.events.data.journal import read_batch
    from services.events.data.repository import row
    from services.events.data.tables import COLUMNS

    accept = {"Athenaeum-Accept-Time": datetime.now(UTC).isoformat(), "Athenaeum-Accepted-By": "users/bench"}
    rows = [[row(r) for r in read_batch(p, accept).records()] for p in payloads]
    connection = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        await connection.execute(RAW_DDL)
        cpu = time.process_time() + sum(cpu_seconds(pid) for pid in process_tree(postgres_pid))
        started = time.perf_counter()
        for chunk in rows:
            await connection.copy_records_to_table("bench_raw_copy", records=chunk, columns=COLUMNS)
        seconds = time.perf_counter() - started
        cpu = time.process_time() + sum(cpu_seconds(pid) for pid in process_tree(postgres_pid)) - cpu
        await connection.execute("DROP TABLE bench_raw_copy")
    finally:
        await connection.close()
    count = sum(map(len, rows))
    return count / seconds, cpu / count * 1e6


async def journal_designs(
    nats_url: str, payloads: list[bytes], nats_pid: int, options: dict[str, Any]
) -> dict[str, tuple[float, float]]:
    """Events/s and CPU ms per 1,000 events (client + NATS) publishing to a JetStream file stream with a
    Nats-Msg-Id: one message per event (256 publishes in flight) against one message per batch."""
    import nats
    from nats.js.api import StorageType, StreamConfig

    events = [bytes(e.SerializeToString()) for e in events_pb2.BatchRecordEventsRequest.FromString(payloads[0]).events]
    events = (events * (20_000 // len(events) + 1))[:20_000]
    batches_of = [payloads[i % len(payloads)] for i in range(20)]
    client = await nats.connect(nats_url, **options)  # options: the mesh's TLS
    js = client.jetstream()
    results = {}
    try:
        await js.add_stream(StreamConfig(name="BENCH_DESIGNS", subjects=["bench.designs.>"], storage=StorageType.FILE))
        for design, messages, window in (("per event", events, 256), ("per batch", batches_of, 4)):
            cpu, started = time.process_time() + cpu_seconds(nats_pid), time.perf_counter()
            pending: set[asyncio.Task[object]] = set()
            for message in messages:
                if len(pending) >= window:
                    _, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
                headers = {"Nats-Msg-Id": uuid.uuid4().hex}
                pending.add(asyncio.create_task(js.publish(f"bench.designs.{design[4:]}", message, headers=headers)))
            await asyncio.gather(*pending)
            seconds = time.perf_counter() - started
            used = time.process_time() + cpu_seconds(nats_pid) - cpu
            results[design] = (20_000 / seconds, used / 20_000 * 1e6)
        await js.delete_stream("BENCH_DESIGNS")
    finally:
        await client.close()
    return results
