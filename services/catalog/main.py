"""Composition root of the catalog service: build the graph once, then serve."""

from __future__ import annotations

from functools import partial

from athenaeum.catalog.v1 import catalog_pb2_grpc
from services.catalog import events
from services.catalog.repository import SqlCatalogUnitOfWork
from services.catalog.service import CatalogServicer
from services.catalog.settings import CatalogSettings
from services.runtime.clock import SystemClock
from services.runtime.infrastructure import Infrastructure
from services.runtime.server import ServiceApp, run

NAME = "catalog"


async def build(settings: CatalogSettings) -> ServiceApp:
    infra = Infrastructure.open(NAME, settings)

    def unit_of_work() -> SqlCatalogUnitOfWork:
        return SqlCatalogUnitOfWork(infra.sessions, encode=events.encode, on_commit=infra.relay.wake)

    servicer = CatalogServicer(uow=unit_of_work, clock=SystemClock())
    return infra.app([partial(catalog_pb2_grpc.add_CatalogServiceServicer_to_server, servicer)])


def main() -> None:
    settings = CatalogSettings()
    run(partial(build, settings), settings=settings, name=NAME)


if __name__ == "__main__":
    main()
