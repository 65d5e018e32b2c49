# ruff: noqa: E501  (the report is a Markdown table: its rows read best unbroken)
"""Notifications delivered per second from a burst of events, and event -> SENT latency at half that rate.

The notifications service runs as it does in production (`python -m services.notifications.main`, one
process, or `--processes` of them sharing the work) on Postgres, NATS and the local mail and SMS sinks, all
started here on free loopback ports; a stand-in for the catalog (in the bench's process) names the books of
hold-ready events.
Patrons are announced first (UserRegistered, welcome notices off), then:

1. burst: `--events` hold-ready and due-soon events (half each) are published as fast as NATS takes them;
   every event is one email and one SMS. Reported: notifications SENT per second from the first publish to
   the last SENT, p50/p99 from each event's time to its SENT, the service's peak RSS and CPU per
   notification.
2. steady: events at half the burst's event rate for `--steady-seconds`; p50/p99 event -> SENT.
3. baseline, same run: raw aiosmtplib sends/s to the same mail sink (as many connections as the service's
   pool) and raw httpx and aiohttp posts/s to the same SMS sink: what the sinks and the client libraries
   allow at all; then bare asyncio clients (bench/sink_clients.py): the sinks' own ceiling.

Writes bench/results/notifications-<UTC time>.md. Run by hand (see bench/README.md):

    python bench/notifications.py --events 10000
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import nats
import sink_clients
import sqlalchemy as sa
from loadtools import RESULTS_DIR, work_folder
from notifications_load import Watch, burst, cuts, patrons, publish, serve_catalog, wait_for
from notifications_queries import database_work, latencies, phases, recorded_sent, retried
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from services.notifications.data.tables import notifications as table
from services.support.launcher.components import REPO_ROOT
from services.support.launcher.local_postgres import LocalPostgres
from services.support.launcher.nats import LocalNats
from services.support.launcher.processes import ProcessSpec, Supervisor
from services.support.launcher.readiness import grpc_health_status, wait_until
from services.support.launcher.sink_servers import LocalSinks, SinkAddresses
from services.support.mesh.topology import free_ports
from services.support.runtime.messaging import ensure_streams
from services.support.runtime.migrations import upgrade_to_head


@dataclass
class Backing:
    """What the service runs on, started here: Postgres, NATS and the sinks."""

    postgres: LocalPostgres
    postgres_pid: int
    nats: LocalNats
    nats_pid: int
    sinks: LocalSinks
    url: str


def start_backing(folder: Path, ports: Iterator[int], supervisor: Supervisor) -> Backing:
    postgres = LocalPostgres(folder / "postgres", next(ports), supervisor)
    postgres_pid = postgres.start().pid
    local_nats = LocalNats(folder / "nats", next(ports), supervisor)
    nats_pid = local_nats.start().pid
    sinks = LocalSinks(folder / "sinks", SinkAddresses(next(ports), next(ports), next(ports)), supervisor)
    sinks.start()
    url = postgres.create_database("athenaeum_notifications")
    return Backing(postgres, postgres_pid, local_nats, nats_pid, sinks, url)


def start_services(
    backing: Backing, *, processes: int, catalog_port: int, ports: Iterator[int], supervisor: Supervisor
) -> list:
    """`processes` notifications processes in one consumer group (they share the work), each SERVING."""
    env = {
        **os.environ,
        **backing.sinks.addresses.service_environment(),
        "ATHENAEUM_DATABASE_URL": backing.url,
        "ATHENAEUM_NATS_URL": backing.nats.url,
        "ATHENAEUM_ENVIRONMENT": "test",
        "ATHENAEUM_SMS_QUIET_HOURS": "",
        "ATHENAEUM_SMS_MAX_PER_HOUR": "1000",
        "ATHENAEUM_NOTICE_BATCH_WINDOW_SECONDS": "0",  # one message per notice: comparable with earlier runs
        "ATHENAEUM_LOG_LEVEL": "WARNING",
        "ATHENAEUM_MESH_URL": f"127.0.0.1:{catalog_port}",
        "PYTHONPATH": f"{REPO_ROOT}{os.pathsep}{REPO_ROOT / 'gen' / 'python'}",
        "MALLOC_ARENA_MAX": os.environ.get("MALLOC_ARENA_MAX", "2"),  # as the launcher and the image run it
    }
    services = []
    for n in range(processes):
        port = next(ports)
        spec_env = {**env, "ATHENAEUM_PORT": str(port), "ATHENAEUM_INSTANCE_NAME": f"bench-{n}"}
        command = [sys.executable, "-m", "services.notifications.main"]
        service = supervisor.start(ProcessSpec(f"notifications-{n}", command, env=spec_env, cwd=REPO_ROOT))
        wait_until(
            lambda port=port: grpc_health_status(f"127.0.0.1:{port}") == "SERVING",
            timeout=60,
            what="notifications",
            check_alive=service.check_alive,
        )
        services.append(service)
    return services


async def announce_patrons(js, engine: AsyncEngine, count: int) -> list[str]:
    """Publishes `count` patrons and waits until the service knows them all; their names."""
    registered = patrons(count)
    await publish(js, registered)
    async with engine.connect() as connection:
        for _ in range(600):
            if await connection.scalar(sa.text("SELECT count(*) FROM recipients")) >= count:
                break
            await asyncio.sleep(0.1)
    return [event.user.name for _, event in registered]


async def measure_burst(args, js, engine: AsyncEngine, backing: Backing, people: list[str], services: list) -> dict:
    """Phase 1: every event published at once; the rate of SENT, its latencies and what each notification cost."""
    sinks = backing.sinks
    mail, sms = sinks.client(LocalSinks.MAIL), sinks.client(LocalSinks.SMS)
    watches = [Watch(service.pid) for service in services]
    rss_before = max(w.process.memory_info().rss for w in watches)
    sink_watches = [Watch(sinks.process(name).pid) for name in (LocalSinks.MAIL, LocalSinks.SMS)]
    sink_cpu_before = [w.cpu() for w in sink_watches]
    watchers = [asyncio.create_task(w.run()) for w in watches]
    events = burst(people, args.events)
    already = mail.count() + sms.count()
    since, cpu_before = datetime.now(UTC), sum(w.cpu() for w in watches)
    work_before = await database_work(engine, backing.postgres_pid, backing.nats_pid)
    started = time.monotonic()
    await publish(js, events)
    published = time.monotonic()
    delivered = 2 * args.events
    finished = await wait_for([mail, sms], already + delivered, timeout=600)
    await recorded_sent(engine, since, delivered)
    cpu = sum(w.cpu() for w in watches) - cpu_before
    work_after = await database_work(engine, backing.postgres_pid, backing.nats_pid)
    work = [(after - before) / delivered for before, after in zip(work_before, work_after, strict=True)]
    sink_cpu = [(w.cpu() - b) / args.events * 1000 for w, b in zip(sink_watches, sink_cpu_before, strict=True)]
    p50, p99 = cuts(await latencies(engine, since))
    found = {"since": since, "delivered": delivered, "rate": delivered / (finished - started), "p50": p50, "p99": p99}
    found |= {"publishing": published - started, "took": finished - started, "stages": await phases(engine, since)}
    found |= {"cpu_ms": cpu / delivered * 1000, "work": work, "sink_cpu": sink_cpu, "rss_before": rss_before}
    found |= {"watches": watches, "watchers": watchers, "sink_watches": sink_watches, "mail": mail, "sms": sms}
    return found


async def measure_steady(args, js, engine: AsyncEngine, people: list[str], burst_found: dict) -> dict:
    """Phase 2: events at half the burst's event rate, in tenths of a second; event -> SENT and its two stages."""
    mail, sms = burst_found["mail"], burst_found["sms"]
    events_per_s = burst_found["rate"] / 2 / 2
    since = datetime.now(UTC)
    total = int(events_per_s * args.steady_seconds)
    target = mail.count() + sms.count() + 2 * total
    per_tick = max(1, int(events_per_s / 10))
    for i in range(0, total, per_tick):
        tick = time.monotonic()
        await publish(js, burst(people, min(per_tick, total - i)))
        await asyncio.sleep(max(0.0, 0.1 - (time.monotonic() - tick)))
    await wait_for([mail, sms], target, timeout=300)
    await recorded_sent(engine, since, 2 * total)
    p50, p99 = cuts(await latencies(engine, since))
    intake_p50, intake_p99 = cuts(await latencies(engine, since, end=table.c.created_at))
    dispatch_p50, dispatch_p99 = cuts(await latencies(engine, since, start=table.c.created_at))
    found = {"events_per_s": events_per_s, "p50": p50, "p99": p99, "intake": (intake_p50, intake_p99)}
    return found | {"dispatch": (dispatch_p50, dispatch_p99), "retried": await retried(engine, burst_found["since"])}


async def baseline(addresses: SinkAddresses, sinks: list[Watch], *, count: int, pool: int) -> dict[str, float]:
    """Sends/s straight to the sinks, no service: with the client libraries, then with bare asyncio clients
    (the sinks' own ceiling, with the sinks' CPU per message)."""
    found = {
        "smtp": await sink_clients.smtp_library(addresses, count=count, pool=pool),
        "httpx": await sink_clients.sms_httpx(addresses, count=count, pool=16),
        "aiohttp": await sink_clients.sms_aiohttp(addresses, count=count, pool=16),
    }
    for name, measure, sink in (
        ("smtp_bare", sink_clients.smtp_bare, sinks[0]),
        ("sms_bare", sink_clients.sms_bare, sinks[1]),
    ):
        before = sink.cpu()
        found[name] = await measure(addresses, count=count, pool=pool)
        found[f"{name}_cpu_ms"] = (sink.cpu() - before) / count * 1000
    return found


def render(args: argparse.Namespace, b: dict, s: dict, base: dict[str, float]) -> str:
    """The run's Markdown report: `b` the burst's figures, `s` the steady phase's, `base` the baselines'."""
    return f"""# Notifications throughput, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC

Machine: {os.cpu_count()} cores, load average before the run {os.getloadavg()[0]:.1f} (shared with other work).
Everything on this machine: Postgres, NATS, the mail and SMS sinks (Python), {args.processes} notifications process(es).

| measure | value |
|---|---|
| burst | {args.events} events ({args.events // 2} hold-ready, {args.events // 2} due-soon), {b["delivered"]} notifications (email + SMS each), {args.patrons} patrons |
| publishing the burst took | {b["publishing"]:.2f} s |
| **notifications SENT per second (burst)** | **{b["rate"]:.0f}/s** (first publish to last SENT: {b["took"]:.1f} s) |
| the burst's last notification queued / last email sent / last SMS sent, after the first publish | {b["stages"]["queued"]:.1f} / {b["stages"]["email"]:.1f} / {b["stages"]["sms"]:.1f} s |
| event -> SENT, burst | p50 {b["p50"]:.0f} ms, p99 {b["p99"]:.0f} ms (queueing included) |
| **event -> SENT at half the burst rate** ({s["events_per_s"]:.0f} events/s, {2 * s["events_per_s"]:.0f} notifications/s, {args.steady_seconds} s) | **p50 {s["p50"]:.0f} ms, p99 {s["p99"]:.0f} ms** |
| the same, its two stages: event -> queued / queued -> SENT | p50 {s["intake"][0]:.0f} / {s["dispatch"][0]:.0f} ms, p99 {s["intake"][1]:.0f} / {s["dispatch"][1]:.0f} ms |
| notifications sent after more than one try (burst and half rate) | {s["retried"]} |
| notifications service peak RSS (the largest process) | {max(w.peak_rss for w in b["watches"]) / 2**20:.0f} MiB (before the burst, patrons known: {b["rss_before"] / 2**20:.0f} MiB) |
| notifications service CPU per notification (burst; every process) | {b["cpu_ms"]:.2f} ms |
| Postgres (every backend) / NATS CPU per notification (burst) | {b["work"][2] * 1000:.2f} / {b["work"][3] * 1000:.2f} ms |
| SQL statements / transactions per notification (burst; the bench's own queries included) | {b["work"][0]:.2f} / {b["work"][1]:.2f} |
| sinks' CPU per message (burst): mail / SMS | {b["sink_cpu"][0]:.2f} / {b["sink_cpu"][1]:.2f} ms |
| baseline: raw aiosmtplib sends/s to the same sink (8 connections) | {base["smtp"]:.0f}/s |
| baseline: raw httpx posts/s to the same SMS sink (16 connections) | {base["httpx"]:.0f}/s |
| baseline: raw aiohttp posts/s to the same SMS sink (16 connections) | {base["aiohttp"]:.0f}/s |
| sinks' ceiling: bare pipelined SMTP client (8 connections) | {base["smtp_bare"]:.0f}/s (mail sink CPU {base["smtp_bare_cpu_ms"]:.2f} ms/message) |
| sinks' ceiling: bare HTTP/1.1 client (8 connections) | {base["sms_bare"]:.0f}/s (SMS sink CPU {base["sms_bare_cpu_ms"]:.2f} ms/message) |
| burst rate / mean of the two baselines (aiosmtplib, httpx) | {b["rate"] / ((base["smtp"] + base["httpx"]) / 2):.2f} |
"""


async def main(args: argparse.Namespace) -> int:
    folder = work_folder("athenaeum-bench-notifications-")
    ports = free_ports()
    supervisor = Supervisor(folder / "logs")
    try:
        backing = start_backing(folder, ports, supervisor)
        await asyncio.to_thread(upgrade_to_head, "notifications", backing.url)
        client = await nats.connect(backing.nats.url)
        js = client.jetstream()
        await ensure_streams(js)
        catalog_port = next(ports)
        services = start_services(
            backing, processes=args.processes, catalog_port=catalog_port, ports=ports, supervisor=supervisor
        )
        catalog = await serve_catalog(catalog_port)  # after the services: no gRPC server here while they fork
        engine = create_async_engine(backing.url)
        async with engine.begin() as connection:
            await connection.execute(sa.text("CREATE EXTENSION IF NOT EXISTS pg_stat_statements"))
        people = await announce_patrons(js, engine, args.patrons)
        burst_found = await measure_burst(args, js, engine, backing, people, services)
        steady = await measure_steady(args, js, engine, people, burst_found)
        for w in burst_found["watches"]:
            w.stop()
        await asyncio.gather(*burst_found["watchers"])
        base = await baseline(backing.sinks.addresses, burst_found["sink_watches"], count=args.baseline, pool=8)
        await client.close()
        await engine.dispose()
        await catalog.stop(None)
        report = render(args, burst_found, steady, base)
        print(report)
        RESULTS_DIR.mkdir(parents=True, exist_ok=True)
        (RESULTS_DIR / f"notifications-{datetime.now(UTC):%Y-%m-%dT%H%M}.md").write_text(report)
        return 0
    finally:
        supervisor.stop_all()
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--patrons", type=int, default=2_000)
    parser.add_argument("--processes", type=int, default=1, help="notifications processes sharing the work")
    parser.add_argument("--steady-seconds", type=int, default=10)
    parser.add_argument("--baseline", type=int, default=3_000)
    sys.exit(asyncio.run(main(parser.parse_args())))
