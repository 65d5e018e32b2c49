"""Time `LocalMesh.start()` until every service is SERVING and every Envoy LIVE, and the RSS of each process.

    python bench/startup.py [--runs 3]

Appends one JSON line per run to bench/results/startup.jsonl (or the folder ATHENAEUM_BENCH_RESULTS names)
and prints a markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO_ROOT), str(REPO_ROOT / "gen" / "python")]

from services.support.launcher.layout import local_mesh_topology  # noqa: E402
from services.support.launcher.mesh import LocalMesh  # noqa: E402
from services.support.mesh.topology import free_ports  # noqa: E402

sys.path.insert(0, str(REPO_ROOT / "bench"))
from loadtools import RESULTS_DIR  # noqa: E402

RESULTS = RESULTS_DIR / "startup.jsonl"


def rss_of(mesh: LocalMesh) -> dict[str, float]:
    """Resident memory (MiB) of each supervised process with its children (Postgres: per backend)."""
    sizes: dict[str, float] = {}
    for process in mesh.processes:
        if process.pid is None:
            continue
        root = psutil.Process(process.pid)
        family = [root, *root.children(recursive=True)]
        sizes[process.name] = round(sum(member.memory_info().rss for member in family) / 2**20, 1)
    return sizes


def one_run(*, fresh: bool) -> dict[str, Any]:
    """Start a mesh in a new folder (fresh: includes initdb and certificates), measure it, stop it."""
    data_dir = Path(tempfile.mkdtemp(prefix="athenaeum-bench-"))
    data_dir.chmod(0o755)  # Postgres runs as 'nobody' under root
    try:
        if not fresh:
            _warm_up(data_dir)
        mesh = _mesh(data_dir)
        started = time.perf_counter()
        try:
            mesh.start()
            seconds = time.perf_counter() - started
            sizes = rss_of(mesh)
        finally:
            mesh.stop()
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
    return {"seconds_to_serving": round(seconds, 2), "first_start": fresh, "rss_mib": sizes}


def _mesh(data_dir: Path) -> LocalMesh:
    ports = free_ports()
    topology = local_mesh_topology(data_dir, ports=ports, edge_port=next(ports), edge_admin_port=next(ports))
    return LocalMesh(data_dir, topology)


def _warm_up(data_dir: Path) -> None:
    # A second `athenaeum up` reuses the cluster and the certificates: measure that case too.
    mesh = _mesh(data_dir)
    mesh.start()
    mesh.stop()


def main() -> None:
    """Run the benchmark, append the results, print a markdown summary."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    runs = [one_run(fresh=index == 0) for index in range(args.runs)]
    record = {
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "host": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "runs": runs,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    with RESULTS.open("a") as results:
        results.write(json.dumps(record) + "\n")
    print(_markdown(runs))


def _markdown(runs: list[dict[str, Any]]) -> str:
    lines = ["| run | first start | seconds to SERVING | total RSS (MiB) |", "|---|---|---|---|"]
    for index, run in enumerate(runs, 1):
        total = sum(run["rss_mib"].values())
        lines.append(f"| {index} | {run['first_start']} | {run['seconds_to_serving']} | {total:.0f} |")
    last = runs[-1]["rss_mib"]
    lines += ["", "| process | RSS (MiB) |", "|---|---|"]
    lines += [f"| {name} | {size} |" for name, size in sorted(last.items())]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
