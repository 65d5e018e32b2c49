"""Composition root of the catalog service: build the graph once, then serve."""

from __future__ import annotations

import uuid
from functools import partial

from athenaeum.catalog.v1 import catalog_pb2, catalog_pb2_grpc
from athenaeum.users.v1 import events_pb2 as users_events
from services.catalog.api import events
from services.catalog.api.cache import BookCache
from services.catalog.api.consumers import cache_follower, drop_stale
from services.catalog.api.search_cache import SearchCache
from services.catalog.api.servicer import CatalogServicer
from services.catalog.data.unit_of_work import SqlCatalogUnitOfWork
from services.catalog.settings import CatalogSettings
from services.support.runtime import telemetry
from services.support.runtime.auth import RevocationFeed
from services.support.runtime.clock import SystemClock
from services.support.runtime.events import DomainEvent
from services.support.runtime.infrastructure import Infrastructure
from services.support.runtime.outbox import OutboxMessage
from services.support.runtime.server import ServiceApp, run, served
from services.support.runtime.settings import read_settings

NAME = "catalog"


async def build(settings: CatalogSettings) -> ServiceApp:
    infra = Infrastructure.open(NAME, settings)
    cache = BookCache(capacity=settings.book_cache_size, ttl_seconds=settings.book_cache_ttl_seconds)
    searches = SearchCache(max_bytes=settings.search_cache_bytes, ttl_seconds=settings.search_cache_ttl_seconds)
    telemetry.CACHES.watch("books", cache)
    telemetry.CACHES.watch("searches", searches)

    def unit_of_work(*, on_driver: bool = False) -> SqlCatalogUnitOfWork:
        changed: list[uuid.UUID] = []  # the books, not the events: those hold their aggregates
        matches_changed = everything = False

        def encode(event: DomainEvent) -> OutboxMessage:
            nonlocal matches_changed, everything
            if (book_id := events.book_id_of(event)) is not None:
                changed.append(book_id)
            matches_changed = matches_changed or events.changes_matches(event)
            everything = everything or events.changes_every_book(event)
            return events.encode(event)

        def on_commit() -> None:
            infra.relay.wake()
            # After our own commit, so this process serves its writes at once; other processes hear the events.
            drop_stale(cache, searches, changed, matches_changed=matches_changed, everything=everything)

        return SqlCatalogUnitOfWork(
            infra.sessions, encode=encode, on_commit=on_commit, on_driver=on_driver, read_sessions=infra.read_sessions
        )

    def reads() -> SqlCatalogUnitOfWork:
        return SqlCatalogUnitOfWork(infra.read_sessions, encode=events.encode, read_only=True)

    # The saga's steps run on the driver (its own transaction, or a single write): their statements are all
    # DriverStatements.
    circulation = partial(unit_of_work, on_driver=True)
    servicer = CatalogServicer(
        uow=unit_of_work,
        reads=reads,
        circulation=circulation,
        clock=SystemClock(),
        cache=cache,
        searches=searches,
        branches=settings.branches,
    )
    return infra.app(
        [
            served(
                catalog_pb2.DESCRIPTOR.services_by_name["CatalogService"],
                catalog_pb2_grpc.add_CatalogServiceServicer_to_server,
                servicer,
            )
        ],
        revocations=RevocationFeed.of_event("users", users_events.SessionRevoked),
        consumers=[cache_follower(cache, searches, infra.nats)] if cache.enabled or searches.enabled else [],
    )


def main() -> None:
    settings = read_settings(CatalogSettings)  # a wrong setting: one line naming it, exit 1
    run(partial(build, settings), settings=settings, name=NAME)


if __name__ == "__main__":
    main()
