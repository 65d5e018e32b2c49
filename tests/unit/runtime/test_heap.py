"""What start-up built is left out of later collections, and every collection's pause is measured."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from services.support.runtime.telemetry import GcPauseCollector

# A fresh interpreter: freezing and the collector's callbacks are process-wide.
_PROGRAM = textwrap.dedent(
    """
    import gc, weakref
    from prometheus_client import REGISTRY
    import services.loans.main  # a service's imports: what start-up builds
    from services.support.runtime import heap

    def full_collections():
        return REGISTRY.get_sample_value("athenaeum_gc_pause_seconds_count", {"generation": "2"}) or 0

    heap.measure_pauses()
    heap.measure_pauses()  # twice: still one meter
    meters = sum(isinstance(callback, heap._PauseMeter) for callback in gc.callbacks)
    class Node: pass
    garbage = Node()
    garbage.itself = garbage  # start-up's garbage, a cycle: collected, not frozen
    collected = weakref.ref(garbage)
    del garbage
    walked_before, timed_before = len(gc.get_objects()), full_collections()
    heap.freeze_start_up()
    walked_after = len(gc.get_objects())
    print(meters, walked_before, walked_after, full_collections() - timed_before, collected() is None)
    """
)


def test_a_collection_after_start_up_walks_only_what_was_made_since_and_each_is_timed() -> None:
    done = subprocess.run([sys.executable, "-c", _PROGRAM], capture_output=True, text=True, timeout=120, check=True)
    meters, walked_before, walked_after, timed, collected = done.stdout.split()
    assert meters == "1"
    assert int(walked_before) > 50_000  # gRPC, protobuf, SQLAlchemy and the service's modules
    assert int(walked_after) < 1_000  # only what was made since
    assert float(timed) == 1  # the freeze's own full collection, observed as generation 2
    assert collected == "True"


def test_a_pause_is_counted_in_every_bucket_at_or_above_it() -> None:
    pauses = GcPauseCollector()
    pauses.observe(2, 0.003)
    pauses.observe(2, 0.005)  # on a bound: counted in it (Prometheus's `le`)
    pauses.observe(0, 0.0001)
    (family,) = pauses.collect()
    full = {s.labels.get("le"): s.value for s in family.samples if s.labels["generation"] == "2"}
    assert (full["0.0025"], full["0.005"], full["+Inf"]) == (0, 2, 2)
    sums = {s.labels["generation"]: s.value for s in family.samples if s.name.endswith("_sum")}
    assert sums == {"0": 0.0001, "1": 0.0, "2": 0.008}
