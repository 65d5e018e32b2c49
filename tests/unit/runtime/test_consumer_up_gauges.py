"""athenaeum_consumer_up tells of consumers that run: the alert on a consumer subscribed nowhere
(AthenaeumConsumerDown) would otherwise fire for a name no loop ever reports under."""

from __future__ import annotations

from typing import Any

from prometheus_client import REGISTRY

from services.support.runtime.batch_consumers import BatchConsumer
from services.support.runtime.messaging import ConsumerSpec


async def _batch(messages: Any) -> None:
    return None


def _up(consumer: str) -> float | None:
    return REGISTRY.get_sample_value("athenaeum_consumer_up", {"consumer": consumer})


def test_workers_of_one_durable_report_under_their_own_names_only() -> None:
    spec = ConsumerSpec("GAUGE_TEST", "gauge-test-store", "gauge.test.v1")
    workers = [BatchConsumer(link=None, spec=spec, handler=_batch, name=f"gauge-test-store#{n}") for n in range(2)]  # type: ignore[arg-type]

    for worker in workers:
        worker.health.progressed()

    assert [_up(f"gauge-test-store#{n}") for n in range(2)] == [1.0, 1.0]
    assert _up("gauge-test-store") is None  # no loop runs under the durable's own name
