"""What start-up built is left out of later collections, every collection's pause is measured, and a unit of
work leaves no cycle for them."""

from __future__ import annotations

import gc
import subprocess
import sys
import textwrap
import weakref
from datetime import UTC

import pytest
from sqlalchemy.ext.asyncio import create_async_engine

from services.loans.api import events
from services.loans.data.unit_of_work import SqlLoansUnitOfWork
from services.support.runtime.engine import read_session_factory, session_factory
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


@pytest.mark.parametrize("block", ["transaction on the driver", "reading", "single write"])
async def test_a_unit_of_work_and_its_repositories_are_freed_without_the_collector(block: str) -> None:
    """What a unit of work hands its repositories holds it weakly: no cycle per call left to a collection."""
    engine = create_async_engine("postgresql+asyncpg://nobody@127.0.0.1:1/none")  # never connected
    uow = SqlLoansUnitOfWork(
        session_factory(engine), encode=events.encoder(UTC), read_sessions=read_session_factory(engine), on_driver=True
    )
    entered = {"transaction on the driver": uow, "reading": uow.reading(), "single write": uow.single_write()}[block]
    gc.disable()
    try:
        async with entered:
            repository = weakref.ref(uow.loans)
        unit = weakref.ref(uow)
        del uow, entered
        assert (unit(), repository()) == (None, None)
    finally:
        gc.enable()
        await engine.dispose()
