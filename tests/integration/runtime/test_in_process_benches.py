"""The in-process benches (`bench/units_of_work.py`, `loans_steps.py`, `catalog_steps.py`,
`notification_claims.py`, `driver_checkouts.py`) run against real Postgres a few times each: they are run by
hand, and one that fails after a change of the runtime or of a service's schema (as `units_of_work.py` did for
a day) is found here, not by whoever measures next.

Only that each variant ran and was measured is asserted; the figures of so few calls mean nothing."""

from __future__ import annotations

import importlib
import os
import sys
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.integration
BENCH = Path(__file__).resolve().parents[3] / "bench"


@pytest.fixture(scope="module")
def bench_modules() -> Any:
    sys.path.insert(0, str(BENCH))  # as the benches run: their helpers are imported from their folder
    try:
        yield lambda name: importlib.import_module(name)
    finally:
        sys.path.remove(str(BENCH))


@pytest.mark.parametrize(
    "bench", ["units_of_work", "loans_steps", "catalog_steps", "notification_claims", "driver_checkouts"]
)
async def test_the_bench_runs_each_of_its_variants(bench: str, bench_modules: Any, postgres: Any) -> None:
    module = bench_modules(bench)
    url = postgres.fresh_database(f"bench_{bench}")
    results = await module.run(url, os.getpid(), count=10)  # any process will do for the CPU it reports
    assert results, "no variant ran"
    for name, runs in results.items():
        assert len(runs) == 2, name  # alternated: each variant measured twice
        assert all(len(figures) == 3 and figures[2] > 0 for figures in runs), name  # CPU, Postgres, wall
