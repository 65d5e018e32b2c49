"""Composition root of the events service: build the graph once, then serve."""

from __future__ import annotations

from functools import partial

from athenaeum.events.v1 import events_pb2, events_pb2_grpc
from athenaeum.users.v1 import events_pb2 as users_events
from services.events.service import EventsServicer
from services.events.settings import EventsSettings
from services.support.runtime.auth import RevocationFeed
from services.support.runtime.infrastructure import Infrastructure
from services.support.runtime.server import ServiceApp, run, served

NAME = "events"


async def build(settings: EventsSettings) -> ServiceApp:
    infra = Infrastructure.open(NAME, settings)
    return infra.app(
        [
            served(
                events_pb2.DESCRIPTOR.services_by_name["EventsService"],
                events_pb2_grpc.add_EventsServiceServicer_to_server,
                EventsServicer(),
            )
        ],
        revocations=RevocationFeed.of_event("users", users_events.SessionRevoked),
    )


def main() -> None:
    settings = EventsSettings()
    run(partial(build, settings), settings=settings, name=NAME)


if __name__ == "__main__":
    main()
