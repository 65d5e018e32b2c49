"""Composition root of the events service: build the graph once, then serve."""

from __future__ import annotations

from functools import partial

from athenaeum.events.v1 import events_pb2_grpc
from services.events.service import EventsServicer
from services.events.settings import EventsSettings
from services.support.runtime.infrastructure import Infrastructure
from services.support.runtime.server import ServiceApp, run

NAME = "events"


async def build(settings: EventsSettings) -> ServiceApp:
    infra = Infrastructure.open(NAME, settings)
    return infra.app(
        [
            partial(events_pb2_grpc.add_EventsServiceServicer_to_server, EventsServicer()),
        ]
    )


def main() -> None:
    settings = EventsSettings()
    run(partial(build, settings), settings=settings, name=NAME)


if __name__ == "__main__":
    main()
