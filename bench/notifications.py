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
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta

import grpc
import nats
import psutil
import sink_clients
import sqlalchemy as sa
from loadtools import work_folder
from notifications_queries import database_work, latencies, phases, retried
from sqlalchemy.ext.asyncio import create_async_engine

from athenaeum.catalog.v1 import catalog_pb2, catalog_pb2_grpc
from athenaeum.loans.v1 import events_pb2 as loans
from athenaeum.loans.v1 import resources_pb2
from athenaeum.users.v1 import events_pb2 as users
from athenaeum.users.v1 import users_pb2
from services.notifications.data.tables import notifications as table
from services.support.launcher.components import REPO_ROOT
from services.support.launcher.nats import LocalNats
from services.support.launcher.postgres import LocalPostgres
from services.support.launcher.processes import ProcessSpec, Supervisor
from services.support.launcher.readiness import grpc_health_status, wait_until
from services.support.launcher.sink_servers import LocalSinks, SinkAddresses, SinkClient
from services.support.mesh.topology import free_ports
from services.support.runtime.messaging import ensure_streams
from services.support.runtime.migrations import upgrade_to_head
from services.support.runtime.wire import event_subject, timestamp

RESULTS_DIR = REPO_ROOT / "bench" / "results"


async def publish(js, events) -> None:
    for start in range(0, len(events), 512):
        chunk = events[start : start + 512]
        await asyncio.gather(
            *(
                js.publish(event_subject(c, e), e.SerializeToString(), headers={"Nats-Msg-Id": e.event_id})
                for c, e in chunk
            )
        )


class Catalog(catalog_pb2_grpc.CatalogServiceServicer):
    """Stands in for the catalog (and the service's sidecar): the titles of the books hold-ready events name.
    Without it, each look-up waits for an unreachable catalog and the bench measures that wait."""

    async def GetBook(self, request: catalog_pb2.GetBookRequest, context) -> catalog_pb2.Book:
        return catalog_pb2.Book(name=request.name, title=f"Title of {request.name[-4:]}")


async def serve_catalog(port: int) -> grpc.aio.Server:
    """Started once the services are: a gRPC server in this process must not be running while it forks them."""
    server = grpc.aio.server()
    catalog_pb2_grpc.add_CatalogServiceServicer_to_server(Catalog(), server)
    server.add_insecure_port(f"127.0.0.1:{port}")
    await server.start()
    return server


def patrons(count: int) -> list[tuple[str, users.UserRegistered]]:
    quiet = {"welcome": users_pb2.ChannelChoice(email=False, sms=False)}
    found = []
    for i in range(count):
        user = users_pb2.User(
            name=f"users/{uuid.uuid4()}",
            email=f"bench-{i}@example.org",
            phone=f"+7999{i:07d}",
            display_name=f"Reader {i}",
            status=users_pb2.USER_STATUS_ACTIVE,
            etag='W/"1"',
            notification_preferences=users_pb2.NotificationPreferences(email_opt_in=True, sms_opt_in=True, kinds=quiet),
        )
        found.append(
            (
                "users",
                users.UserRegistered(event_id=str(uuid.uuid4()), occur_time=timestamp(datetime.now(UTC)), user=user),
            )
        )
    return found


def burst(people: list[str], count: int) -> list[tuple[str, object]]:
    events: list[tuple[str, object]] = []
    now = datetime.now(UTC)
    for i in range(count):
        patron = people[i % len(people)]
        at = timestamp(datetime.now(UTC))
        if i % 2:
            hold = resources_pb2.Hold(
                name=f"holds/{uuid.uuid4()}",
                patron=patron,
                book=f"books/{uuid.UUID(int=i % 50)}",
                pickup_branch="main",
                expire_time=timestamp(now + timedelta(days=3)),
            )
            events.append(("loans", loans.HoldReady(event_id=str(uuid.uuid4()), occur_time=at, hold=hold)))
        else:
            loan = resources_pb2.Loan(
                name=f"loans/{uuid.uuid4()}",
                patron=patron,
                book_title=f"Book {i}",
                barcode=f"31{i:09d}",
                due_time=timestamp(now + timedelta(days=2)),
            )
            events.append(("loans", loans.LoanDueSoon(event_id=str(uuid.uuid4()), occur_time=at, loan=loan, step=1)))
    return events


class Watch:
    """Peak RSS and CPU time of one process (and its children)."""

    def __init__(self, pid: int) -> None:
        self.process = psutil.Process(pid)
        self.peak_rss = 0
        self._stop = False

    def cpu(self) -> float:
        times = self.process.cpu_times()
        return times.user + times.system

    async def run(self) -> None:
        while not self._stop:
            self.peak_rss = max(self.peak_rss, self.process.memory_info().rss)
            await asyncio.sleep(0.05)

    def stop(self) -> None:
        self._stop = True


def cuts(values: list[float]) -> tuple[float, float]:
    q = statistics.quantiles(values, n=100)
    return q[49] * 1000, q[98] * 1000


async def wait_for(clients: list[SinkClient], target: int, timeout: float) -> float:  # noqa: ASYNC109
    deadline = time.monotonic() + timeout
    while sum(c.count() for c in clients) < target:
        if time.monotonic() > deadline:
            raise TimeoutError(f"only {sum(c.count() for c in clients)} of {target} delivered")
        await asyncio.sleep(0.05)
    return time.monotonic()


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


async def main(args: argparse.Namespace) -> int:
    folder = work_folder("athenaeum-bench-notifications-")
    ports = free_ports()
    supervisor = Supervisor(folder / "logs")
    try:
        postgres = LocalPostgres(folder / "postgres", next(ports), supervisor)
        postgres_pid = postgres.start().pid
        local_nats = LocalNats(folder / "nats", next(ports), next(ports), supervisor)
        nats_pid = local_nats.start().pid
        sinks = LocalSinks(folder / "sinks", SinkAddresses(next(ports), next(ports), next(ports)), supervisor)
        sinks.start()
        url = postgres.create_database("athenaeum_notifications")
        await asyncio.to_thread(upgrade_to_head, "notifications", url)
        client = await nats.connect(local_nats.url)
        js = client.jetstream()
        await ensure_streams(js)
        catalog_port = next(ports)
        env = {
            **os.environ,
            **sinks.addresses.service_environment(),
            "ATHENAEUM_DATABASE_URL": url,
            "ATHENAEUM_NATS_URL": local_nats.url,
            "ATHENAEUM_ENVIRONMENT": "test",
            "ATHENAEUM_SMS_QUIET_HOURS": "",
            "ATHENAEUM_SMS_MAX_PER_HOUR": "1000",
            "ATHENAEUM_LOG_LEVEL": "WARNING",
            "ATHENAEUM_MESH_URL": f"127.0.0.1:{catalog_port}",
            "PYTHONPATH": f"{REPO_ROOT}{os.pathsep}{REPO_ROOT / 'gen' / 'python'}",
            "MALLOC_ARENA_MAX": os.environ.get("MALLOC_ARENA_MAX", "2"),  # as the launcher and the image run it
        }
        services = []
        for n in range(args.processes):  # one consumer group: the processes share the work
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
        catalog = await serve_catalog(catalog_port)
        engine = create_async_engine(url)
        async with engine.begin() as connection:
            await connection.execute(sa.text("CREATE EXTENSION IF NOT EXISTS pg_stat_statements"))
        registered = patrons(args.patrons)
        await publish(js, registered)
        async with engine.connect() as connection:
            for _ in range(600):
                known = await connection.scalar(sa.text("SELECT count(*) FROM recipients"))
                if known >= args.patrons:
                    break
                await asyncio.sleep(0.1)
        people = [event.user.name for _, event in registered]
        mail, sms = SinkClient(sinks.addresses.mail_url), SinkClient(sinks.addresses.sms_url)
        watches = [Watch(service.pid) for service in services]
        rss_before_burst = max(w.process.memory_info().rss for w in watches)
        sink_watches = [Watch(sinks.process(name).pid) for name in (LocalSinks.MAIL, LocalSinks.SMS)]
        sink_cpu_before = [w.cpu() for w in sink_watches]
        watchers = [asyncio.create_task(w.run()) for w in watches]
        events = burst(people, args.events)
        start_mail, start_sms = mail.count(), sms.count()
        since, cpu_before = datetime.now(UTC), sum(w.cpu() for w in watches)
        work_before = await database_work(engine, postgres_pid, nats_pid)
        started = time.monotonic()
        await publish(js, events)
        published = time.monotonic()
        finished = await wait_for([mail, sms], start_mail + start_sms + 2 * args.events, timeout=600)
        cpu = sum(w.cpu() for w in watches) - cpu_before
        work = [
            (after - before) / (2 * args.events)
            for before, after in zip(work_before, await database_work(engine, postgres_pid, nats_pid), strict=True)
        ]
        sink_cpu = [(w.cpu() - b) / args.events * 1000 for w, b in zip(sink_watches, sink_cpu_before, strict=True)]
        delivered = 2 * args.events
        burst_rate = delivered / (finished - started)
        burst_p50, burst_p99 = cuts(await latencies(engine, since))
        stages = await phases(engine, since)

        steady_events_per_s = burst_rate / 2 / 2
        steady_since = datetime.now(UTC)
        total = int(steady_events_per_s * args.steady_seconds)
        target = mail.count() + sms.count() + 2 * total
        for i in range(0, total, max(1, int(steady_events_per_s / 10))):
            tick = time.monotonic()
            await publish(js, burst(people, min(max(1, int(steady_events_per_s / 10)), total - i)))
            await asyncio.sleep(max(0.0, 0.1 - (time.monotonic() - tick)))
        await wait_for([mail, sms], target, timeout=300)
        steady_p50, steady_p99 = cuts(await latencies(engine, steady_since))
        intake_p50, intake_p99 = cuts(await latencies(engine, steady_since, end=table.c.created_at))
        dispatch_p50, dispatch_p99 = cuts(await latencies(engine, steady_since, start=table.c.created_at))
        tried_again = await retried(engine, since)
        for w in watches:
            w.stop()
        await asyncio.gather(*watchers)
        base = await baseline(sinks.addresses, sink_watches, count=args.baseline, pool=8)
        smtp_rate, sms_rate = base["smtp"], base["httpx"]
        await client.close()
        await engine.dispose()
        await catalog.stop(None)
        report = f"""# Notifications throughput, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC

Machine: {os.cpu_count()} cores, load average before the run {os.getloadavg()[0]:.1f} (shared with other work).
Everything on this machine: Postgres, NATS, the mail and SMS sinks (Python), {args.processes} notifications process(es).

| measure | value |
|---|---|
| burst | {args.events} events ({args.events // 2} hold-ready, {args.events // 2} due-soon), {delivered} notifications (email + SMS each), {args.patrons} patrons |
| publishing the burst took | {published - started:.2f} s |
| **notifications SENT per second (burst)** | **{burst_rate:.0f}/s** (first publish to last SENT: {finished - started:.1f} s) |
| the burst's last notification queued / last email sent / last SMS sent, after the first publish | {stages["queued"]:.1f} / {stages["email"]:.1f} / {stages["sms"]:.1f} s |
| event -> SENT, burst | p50 {burst_p50:.0f} ms, p99 {burst_p99:.0f} ms (queueing included) |
| **event -> SENT at half the burst rate** ({steady_events_per_s:.0f} events/s, {2 * steady_events_per_s:.0f} notifications/s, {args.steady_seconds} s) | **p50 {steady_p50:.0f} ms, p99 {steady_p99:.0f} ms** |
| the same, its two stages: event -> queued / queued -> SENT | p50 {intake_p50:.0f} / {dispatch_p50:.0f} ms, p99 {intake_p99:.0f} / {dispatch_p99:.0f} ms |
| notifications sent after more than one try (burst and half rate) | {tried_again} |
| notifications service peak RSS (the largest process) | {max(w.peak_rss for w in watches) / 2**20:.0f} MiB (before the burst, patrons known: {rss_before_burst / 2**20:.0f} MiB) |
| notifications service CPU per notification (burst; every process) | {cpu / delivered * 1000:.2f} ms |
| Postgres (every backend) / NATS CPU per notification (burst) | {work[2] * 1000:.2f} / {work[3] * 1000:.2f} ms |
| SQL statements / transactions per notification (burst; the bench's own queries included) | {work[0]:.2f} / {work[1]:.2f} |
| sinks' CPU per message (burst): mail / SMS | {sink_cpu[0]:.2f} / {sink_cpu[1]:.2f} ms |
| baseline: raw aiosmtplib sends/s to the same sink (8 connections) | {smtp_rate:.0f}/s |
| baseline: raw httpx posts/s to the same SMS sink (16 connections) | {sms_rate:.0f}/s |
| baseline: raw aiohttp posts/s to the same SMS sink (16 connections) | {base["aiohttp"]:.0f}/s |
| sinks' ceiling: bare pipelined SMTP client (8 connections) | {base["smtp_bare"]:.0f}/s (mail sink CPU {base["smtp_bare_cpu_ms"]:.2f} ms/message) |
| sinks' ceiling: bare HTTP/1.1 client (8 connections) | {base["sms_bare"]:.0f}/s (SMS sink CPU {base["sms_bare_cpu_ms"]:.2f} ms/message) |
| burst rate / mean of the two baselines (aiosmtplib, httpx) | {burst_rate / ((smtp_rate + sms_rate) / 2):.2f} |
"""
        print(report)
        RESULTS_DIR.mkdir(exist_ok=True)
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
