"""The benches that start a mesh of their own run to their end, in their quickest settings: they are run by
hand, so one broken by a change of the launcher, the runtime or an API would otherwise be found only by
whoever measures next. Their reports go to a folder of the test's (`ATHENAEUM_BENCH_RESULTS`), not to
bench/results: the figures of such short runs mean nothing, so only that a run ends well and reports is
asserted. The benches that need wrk and h2load run only where both are installed, and those that measure
the FastAPI baseline only where the project's bench extra is."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e
REPO_ROOT = Path(__file__).resolve().parents[2]

QUICK = {
    "loans_cycles": ["--duration", "1", "--warm-up", "0", "--repeats", "2"],
    "events_ingest": ["--events", "2000", "--batch", "500", "--clients", "2", "--half-duration", "1"],
    "notifications": ["--events", "50", "--patrons", "10", "--steady-seconds", "1", "--baseline", "50"],
    "startup": ["--runs", "1"],
}
LOAD_TOOLS = all(shutil.which(tool) for tool in ("wrk", "h2load"))
BENCH_EXTRA = all(importlib.util.find_spec(module) for module in ("fastapi", "uvicorn"))  # the FastAPI baseline
WITH_LOAD_TOOLS = [  # h2load needs a warm-up of at least a second
    pytest.param(
        "edge_throughput",
        ["--duration", "1", "--warm-up", "1", "--titles", "200"],
        marks=pytest.mark.skipif(not BENCH_EXTRA, reason="needs the project's bench extra"),
        id="edge_throughput",
    ),
    pytest.param(
        "catalog_reads",
        ["--titles", "200", "--duration", "1", "--warm-up", "1", "--repeats", "2"],
        marks=pytest.mark.skipif(not BENCH_EXTRA, reason="needs the project's bench extra"),
        id="catalog_reads",
    ),
    pytest.param("auth_throughput", ["--duration", "1", "--warm-up", "1"], id="auth_throughput"),
]


@pytest.mark.parametrize("bench", sorted(QUICK))
def test_the_bench_runs_to_its_report(bench: str, tmp_path: Path) -> None:
    run_to_report(bench, QUICK[bench], tmp_path)


@pytest.mark.skipif(not LOAD_TOOLS, reason="needs wrk and h2load (bench/README.md says how to install them)")
@pytest.mark.parametrize(("bench", "arguments"), WITH_LOAD_TOOLS)
def test_the_load_tool_bench_runs_to_its_report(bench: str, arguments: list[str], tmp_path: Path) -> None:
    run_to_report(bench, arguments, tmp_path)


def run_to_report(bench: str, arguments: list[str], tmp_path: Path) -> None:
    env = {**os.environ, "ATHENAEUM_BENCH_RESULTS": str(tmp_path)}
    command = [sys.executable, str(REPO_ROOT / "bench" / f"{bench}.py"), *arguments]
    ran = subprocess.run(command, env=env, cwd=REPO_ROOT, capture_output=True, text=True, timeout=300, check=False)
    assert ran.returncode == 0, ran.stdout[-3000:] + ran.stderr[-3000:]
    (report,) = tmp_path.glob(f"{bench}[-.]*")
    assert report.read_text().strip(), report  # its figures
