"""Composition root of the catalog service: build the graph once, then serve."""

from __future__ import annotations

from functools import partial

from athenaeum.catalog.v1 import catalog_pb2_grpc
from services.catalog import events
from services.catalog.cache import BookCache, book_id_of, follow_changes
from services.catalog.repository import SqlCatalogUnitOfWork
from services.catalog.service import CatalogServicer
from services.catalog.settings import CatalogSettings
from services.support.runtime.clock import SystemClock
from services.support.runtime.infrastructure import Infrastructure
from services.support.runtime.outbox import OutboxMessage
from services.support.runtime.server import ServiceApp, run

NAME = "catalog"


async def build(settings: CatalogSettings) -> ServiceApp:
    infra = Infrastructure.open(NAME, settings)
    cache = BookCache(capacity=settings.book_cache_size, ttl_seconds=settings.book_cache_ttl_seconds)

    def unit_of_work() -> SqlCatalogUnitOfWork:
        touched: list[object] = []

        def encode(event: object) -> OutboxMessage:
            touched.append(event)
            return events.encode(event)

        def on_commit() -> None:
            infra.relay.wake()
            # After our own commit, so this process serves its writes at once; other processes hear the events.
            cache.invalidate([i for e in touched if (i := book_id_of(events.book_name_of(e))) is not None])

        return SqlCatalogUnitOfWork(infra.sessions, encode=encode, on_commit=on_commit)

    async def invalidate_on_changes() -> None:
        await follow_changes(cache, infra.nats)

    servicer = CatalogServicer(uow=unit_of_work, clock=SystemClock(), cache=cache)
    return infra.app(
        [partial(catalog_pb2_grpc.add_CatalogServiceServicer_to_server, servicer)],
        background=[invalidate_on_changes],
    )


def main() -> None:
    settings = CatalogSettings()
    run(partial(build, settings), settings=settings, name=NAME)


if __name__ == "__main__":
    main()
