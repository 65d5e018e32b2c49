"""What one operation costs, printed beside how many per second: CPU per process, SQL statements, RPCs.

A `Meter` takes a snapshot of the running mesh before and after a measured run:
- CPU: utime + stime of every supervised process from /proc (Postgres with every backend: the children of
  the postmaster, and those that ended, from its cutime + cstime; an Envoy or a service with all its
  threads), and of extra processes the bench started (the FastAPI baseline, the echo) or ran (the load
  tool, through RUSAGE_CHILDREN).
- SQL statements per database from pg_stat_statements (BEGIN and COMMIT included: each is a round trip).
- RPCs from each Envoy's stats: requests the edge received, requests each sidecar let into its service
  (`<svc>_inbound`) and calls each service made to its peers (`<svc>_outbound`).
- Garbage collections from each service's /metrics (`athenaeum_gc_pause_seconds`): the time each process
  stood still collecting, and its full collections (the pauses a p99 is made of).

Divided by the operations the run completed, the difference says where an operation's cost went.
"""

from __future__ import annotations

import asyncio
import os
import re
import resource
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from services.support.launcher.process_groups import descendants

TICKS = os.sysconf("SC_CLK_TCK")
STATEMENTS = """SELECT d.datname, sum(s.calls)::bigint FROM pg_stat_statements s
JOIN pg_database d ON d.oid = s.dbid WHERE d.datname <> 'postgres' GROUP BY d.datname"""
TOP_STATEMENTS = """SELECT d.datname, s.calls, s.query FROM pg_stat_statements s
JOIN pg_database d ON d.oid = s.dbid WHERE d.datname <> 'postgres'"""
_RQ_TOTAL = re.compile(r"^http\.(\w+)\.downstream_rq_total: (\d+)$", re.M)
_GC_PAUSES = re.compile(r'^athenaeum_gc_pause_seconds_(sum|count)\{generation="(\d)"\} (\S+)$', re.M)


def cpu_seconds(pid: int, *, ended_children: bool = False) -> float:
    """User + system CPU of a process (all its threads) so far; 0 when it is gone. `ended_children`: with
    what its children that have ended and were reaped used (Postgres: backends of connections that closed
    during the run, e.g. a pool's overflow; without it their CPU went uncounted)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    ticks = int(fields[11]) + int(fields[12])
    if ended_children:
        ticks += int(fields[13]) + int(fields[14])
    return ticks / TICKS


def process_tree(pid: int) -> list[int]:
    """The process and every process below it (Postgres: the postmaster and its backends)."""
    return [pid, *descendants(pid)]


def postgres_cpu(postmaster: int) -> float:
    """CPU of a Postgres server so far: the postmaster, its live backends and those that have ended."""
    return cpu_seconds(postmaster, ended_children=True) + sum(map(cpu_seconds, descendants(postmaster)))


def rss_mib(pid: int) -> float:
    return _proc_kib(pid, "status", "VmRSS") / 1024


def pss_mib(pid: int) -> float:
    """The process's proportional set size: its resident pages, each shared one divided among its sharers (the
    sum over processes counts every page once, as the container's memory does)."""
    return _proc_kib(pid, "smaps_rollup", "Pss") / 1024


def _proc_kib(pid: int, file: str, field: str) -> float:
    """A "<field>: <n> kB" line of /proc/<pid>/<file> (0 once the process is gone)."""
    try:
        text = Path(f"/proc/{pid}/{file}").read_text()
    except OSError:
        return 0.0
    found = re.search(rf"^{field}:\s+(\d+) kB", text, re.M)
    return int(found.group(1)) if found else 0.0


@dataclass(frozen=True)
class Snapshot:
    cpu: dict[str, float]
    """CPU seconds so far per process label."""
    statements: dict[str, int]
    """SQL statements executed so far per database."""
    rpcs: dict[str, int]
    """Requests so far per Envoy listener (edge, <svc>_inbound, <svc>_outbound)."""
    top: dict[tuple[str, str], int] = field(default_factory=dict)
    """Calls so far per (database, normalised statement)."""
    collections: dict[str, tuple[float, float]] = field(default_factory=dict)
    """Per service: seconds paused in garbage collections so far, and full (generation 2) collections."""


@dataclass(frozen=True)
class Costs:
    """Per operation: CPU ms per process, statements per database, requests per Envoy listener."""

    operations: int
    cpu_ms: dict[str, float]
    statements: dict[str, float]
    rpcs: dict[str, float]
    top: list[tuple[str, str, float]]
    collections: dict[str, tuple[float, float]] = field(default_factory=dict)
    """Per service, over the measured window (not per operation): ms paused collecting garbage, full collections."""

    @property
    def cpu_total_ms(self) -> float:
        return sum(v for k, v in self.cpu_ms.items() if k != "load tool")

    @property
    def statements_total(self) -> float:
        return sum(self.statements.values())

    @property
    def service_calls(self) -> float:
        """RPCs the services handled (through their sidecars), whoever made them."""
        return sum(v for k, v in self.rpcs.items() if k.endswith("_inbound"))


class Meter:
    """Snapshots of a LocalMesh (and of `extra` processes: label -> pid) for per-operation costs."""

    def __init__(self, mesh: Any, extra: Mapping[str, Callable[[], int | None]] | None = None) -> None:
        self._mesh = mesh
        self._extra = dict(extra or {})
        self._admin_dsn = _asyncpg_dsn(mesh.postgres.admin_url)
        asyncio.run(self._sql("CREATE EXTENSION IF NOT EXISTS pg_stat_statements"))

    def processes(self) -> dict[str, int]:
        """Label -> pid of every running mesh process and every extra one."""
        found = {p.name: p.pid for p in self._mesh.processes if p.running and p.pid}
        for label, pid_of in self._extra.items():
            if (pid := pid_of()) is not None:
                found[label] = pid
        return found

    def snapshot(self) -> Snapshot:
        cpu = {}
        for label, pid in self.processes().items():
            cpu[label] = postgres_cpu(pid) if label == "postgres" else cpu_seconds(pid)
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu["load tool"] = children.ru_utime + children.ru_stime  # wrk / h2load, once they have exited
        statements, top = asyncio.run(self._statements())
        return Snapshot(cpu, statements, self._rpcs(), top, self._collections())

    def busy_cores(self, seconds: float = 1.0) -> float:
        """CPU the mesh used per second over the next `seconds` (every process, every Postgres backend)."""
        import time

        def total() -> float:
            found = 0.0
            for label, pid in self.processes().items():
                found += postgres_cpu(pid) if label == "postgres" else cpu_seconds(pid)
            return found

        before = total()
        time.sleep(seconds)
        return (total() - before) / seconds

    def settle(self, *, below: float = 0.15, timeout: float = 180.0) -> float:
        """Wait until the mesh is idle (under `below` cores twice in a row): after a bulk import the outbox
        relay and every consumer work through the events for a while, and would be measured with the first
        scenarios. Returns the seconds waited."""
        import time

        started = time.monotonic()
        quiet = 0
        while quiet < 2 and time.monotonic() - started < timeout:
            quiet = quiet + 1 if self.busy_cores() < below else 0
        return time.monotonic() - started

    def rss(self) -> dict[str, float]:
        """MiB resident per mesh service process (the Python services)."""
        from services.support.mesh import registry

        names = {s.name for s in registry.SERVICES}
        return {label: rss_mib(pid) for label, pid in self.processes().items() if label in names}

    async def _sql(self, statement: str) -> list[Any]:
        import asyncpg

        connection = await asyncpg.connect(self._admin_dsn)
        try:
            return list(await connection.fetch(statement))
        finally:
            await connection.close()

    async def _statements(self) -> tuple[dict[str, int], dict[tuple[str, str], int]]:
        per_database = {str(name): int(calls) for name, calls in await self._sql(STATEMENTS)}
        top = {(str(d), " ".join(str(q).split())): int(c) for d, c, q in await self._sql(TOP_STATEMENTS)}
        return per_database, top

    def _rpcs(self) -> dict[str, int]:
        from services.support.launcher import components

        counts: dict[str, int] = {}
        for process in self._mesh.processes:
            port = process.spec.extra.get("admin_port")
            if process.spec.extra.get("role") != components.ENVOY_ROLE or not port or not process.running:
                continue
            url = f"http://127.0.0.1:{port}/stats?filter=downstream_rq_total$"
            with urllib.request.build_opener(urllib.request.ProxyHandler({})).open(url, timeout=5) as answer:
                text = answer.read().decode()
            for prefix, value in _RQ_TOTAL.findall(text):
                if prefix not in ("ops", "admin"):
                    counts[prefix] = counts.get(prefix, 0) + int(value)
        return counts

    def _collections(self) -> dict[str, tuple[float, float]]:
        from services.support.mesh import registry

        found = {}
        for spec in registry.SERVICES:
            url = f"http://127.0.0.1:{self._mesh.topology.placement(spec.name).metrics_port}/metrics"
            try:
                with urllib.request.build_opener(urllib.request.ProxyHandler({})).open(url, timeout=5) as answer:
                    text = answer.read().decode()
            except OSError:
                continue  # not running (a bench may stop one)
            paused = sum(float(value) for kind, _, value in _GC_PAUSES.findall(text) if kind == "sum")
            full = sum(
                float(v) for kind, generation, v in _GC_PAUSES.findall(text) if (kind, generation) == ("count", "2")
            )
            found[spec.name] = (paused, full)
        return found


def _asyncpg_dsn(url: str) -> str:
    from services.support.launcher.postgres import asyncpg_dsn

    return asyncpg_dsn(url)


def _per_op(before: Mapping[Any, float], after: Mapping[Any, float], operations: int) -> dict[Any, float]:
    return {k: (after[k] - before.get(k, 0)) / operations for k in after if after[k] - before.get(k, 0) > 0}


def costs(before: Snapshot, after: Snapshot, operations: int) -> Costs:
    operations = max(operations, 1)
    cpu = {k: v * 1000 for k, v in _per_op(before.cpu, after.cpu, operations).items()}
    top = sorted(((d, q, n) for (d, q), n in _per_op(before.top, after.top, operations).items()), key=lambda t: -t[2])
    return Costs(
        operations,
        cpu,
        _per_op(before.statements, after.statements, operations),
        _per_op(before.rpcs, after.rpcs, operations),
        top,
        _collections_between(before.collections, after.collections),
    )


def _collections_between(
    before: Mapping[str, tuple[float, float]], after: Mapping[str, tuple[float, float]]
) -> dict[str, tuple[float, float]]:
    """Per service: ms paused collecting garbage and full collections between two snapshots."""
    started = {name: before.get(name, (0.0, 0.0)) for name in after}
    return {name: ((s - started[name][0]) * 1000, f - started[name][1]) for name, (s, f) in after.items()}


def _short(label: str) -> str:
    return label.replace("-sidecar", " sc").replace("_inbound", " in").replace("_outbound", " out")


def costs_table(rows: Mapping[str, Costs], *, unit: str = "op") -> str:
    """Markdown: per scenario, CPU ms per `unit` (total and by process), statements and RPCs per `unit`."""
    labels = sorted({k for c in rows.values() for k, v in c.cpu_ms.items() if v >= 0.005})
    header = [f"CPU ms/{unit}", *(_short(k) for k in labels), f"SQL/{unit}", f"RPCs/{unit}"]
    lines = ["| scenario | " + " | ".join(header) + " |", "|---" + "|---:" * len(header) + "|"]
    for name, c in rows.items():
        cells = [f"{c.cpu_total_ms:.3f}", *(f"{c.cpu_ms.get(k, 0):.3f}" for k in labels)]
        cells += [f"{c.statements_total:.2f}", f"{c.service_calls:.2f}"]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines.append("")
    lines.append(
        f"CPU ms/{unit} sums every process but the load tool; Postgres counts every backend. SQL/{unit}: "
        f"statements (BEGIN and COMMIT included) from pg_stat_statements; RPCs/{unit}: calls the services "
        "handled, counted by their sidecars."
    )
    return "\n".join(lines)


def detail(rows: Mapping[str, Costs], *, unit: str = "op", top: int = 12) -> str:
    """Markdown: per scenario, statements and RPCs by database / listener, and the most frequent statements."""
    out = []
    for name, c in rows.items():
        statements = ", ".join(f"{d} {n:.2f}" for d, n in sorted(c.statements.items())) or "none"
        rpcs = ", ".join(f"{_short(k)} {n:.2f}" for k, n in sorted(c.rpcs.items())) or "none"
        out.append(f"- **{name}** ({c.operations:,} {unit}s): SQL per {unit}: {statements}; RPCs per {unit}: {rpcs}")
        if c.collections:
            paused = ", ".join(f"{s} {ms:.1f} ms ({full:.0f} full)" for s, (ms, full) in sorted(c.collections.items()))
            out.append(f"  - paused collecting garbage in the measured window: {paused}")
        for database, query, calls in c.top[:top]:
            if calls >= 0.05:
                out.append(f"  - {calls:.2f} x {database}: `{query[:140]}`")
    return "\n".join(out)
