"""The service's heap after start-up, and what collecting it costs.

A full (generation 2) collection walks every object the collector tracks. A service that has imported gRPC,
protobuf, SQLAlchemy and its own modules holds ~100,000 of them before its first call, and under the loan
cycle's load a full collection stopped loans, the catalog, users or notifications for 60-300 ms
(bench/README.md): every call in the process waited for it, which is what a p99 is made of. What start-up
built lives as long as the process, so it is frozen once the service is ready to serve (`gc.freeze`, after a
collection of start-up's own garbage): later collections walk only what was made since. The pauses are
measured, by generation, for the operator (`athenaeum_gc_pause_seconds`).
"""

from __future__ import annotations

import gc
import time
from typing import Any

from services.support.runtime.telemetry import GC_PAUSES


class _PauseMeter:
    """A `gc.callbacks` entry: times each collection from its start to its stop."""

    def __init__(self) -> None:
        self._started = 0.0

    def __call__(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            GC_PAUSES.observe(info["generation"], time.perf_counter() - self._started)


def measure_pauses() -> None:
    """Observe every collection of this process into `athenaeum_gc_pause_seconds` (once per process)."""
    if not any(isinstance(callback, _PauseMeter) for callback in gc.callbacks):
        gc.callbacks.append(_PauseMeter())


def freeze_start_up() -> None:
    """Collect start-up's garbage, then keep what is left out of every later collection."""
    gc.collect()
    gc.freeze()
