"""Check-outs and check-ins at a steady rate beside a read scenario, made as loans makes them (through its
sidecar, as the loans identity), and what the catalog's SearchBooks cache did meanwhile (its look-ups, read
from the catalog's /metrics): every check-out and check-in drops the cached answers that show its book."""

from __future__ import annotations

import random
import threading
import time
import uuid
from dataclasses import dataclass

import httpx
from prometheus_client.parser import text_string_to_metric_families

LOOKUPS = "athenaeum_cache_lookups_total"


def cache_lookups(metrics_url: str, cache: str) -> tuple[float, float]:
    """(hits, misses) of one of the catalog's caches so far."""
    found = {"hit": 0.0, "miss": 0.0}
    for family in text_string_to_metric_families(httpx.get(metrics_url, timeout=10).text):
        for sample in family.samples:
            if sample.name == LOOKUPS and sample.labels.get("cache") == cache:
                found[sample.labels["result"]] += sample.value
    return found["hit"], found["miss"]


@dataclass
class Circulated:
    pairs: int = 0
    refused: int = 0
    seconds: float = 0.0
    search_hits: float = 0.0
    search_misses: float = 0.0

    def line(self) -> str:
        looked_up = self.search_hits + self.search_misses
        ratio = self.search_hits / looked_up if looked_up else 0.0
        return (
            f"{self.pairs / self.seconds:.1f} check-out + check-in pairs/s of random demo books ({self.pairs:,} in"
            f" {self.seconds:.0f} s, {self.refused} refused: no copy on the shelf); SearchBooks cache hit ratio"
            f" {ratio:.1%} ({self.search_hits:,.0f} hits, {self.search_misses:,.0f} misses)"
        )


class Circulation:
    """`with Circulation(mesh, books, rate) as moving:` runs `rate` pairs a second until the block ends."""

    def __init__(self, mesh: object, books: list[str], rate: float) -> None:
        self._mesh = mesh
        self._books = books
        self._interval = 1 / rate
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="circulation", daemon=True)
        placement = mesh.topology.placement("catalog")  # type: ignore[attr-defined]
        self._metrics = f"http://127.0.0.1:{placement.metrics_port}/metrics"
        self.done = Circulated()

    def __enter__(self) -> Circulation:
        self._started = time.monotonic()
        self._before = cache_lookups(self._metrics, "searches")
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        hits, misses = cache_lookups(self._metrics, "searches")
        self.done.seconds = time.monotonic() - self._started
        self.done.search_hits, self.done.search_misses = hits - self._before[0], misses - self._before[1]

    def _run(self) -> None:
        import grpc

        from athenaeum.catalog.v1 import catalog_pb2, catalog_pb2_grpc

        target = self._mesh.outbound_target("loans")  # type: ignore[attr-defined]
        with grpc.insecure_channel(target) as channel:
            stub = catalog_pb2_grpc.CatalogServiceStub(channel)
            next_at = time.monotonic()
            while not self._stop.is_set():
                loan = f"loans/{uuid.uuid4()}"
                try:
                    request = catalog_pb2.CheckOutCopyRequest(book=random.choice(self._books), loan=loan)
                    copy = stub.CheckOutCopy(request, timeout=5)
                    stub.CheckInCopy(catalog_pb2.CheckInCopyRequest(name=copy.name, loan=loan), timeout=5)
                    self.done.pairs += 1
                except grpc.RpcError:
                    self.done.refused += 1
                next_at += self._interval
                self._stop.wait(max(0.0, next_at - time.monotonic()))
