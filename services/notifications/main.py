"""Composition root of the notifications service: build the graph once, then serve."""

from __future__ import annotations

from functools import partial

from athenaeum.notifications.v1 import notifications_pb2, notifications_pb2_grpc
from athenaeum.users.v1 import events_pb2 as users_events
from services.notifications.service import NotificationsServicer
from services.notifications.settings import NotificationsSettings
from services.support.runtime.auth import RevocationFeed
from services.support.runtime.infrastructure import Infrastructure
from services.support.runtime.server import ServiceApp, run, served

NAME = "notifications"


async def build(settings: NotificationsSettings) -> ServiceApp:
    infra = Infrastructure.open(NAME, settings)
    return infra.app(
        [
            served(
                notifications_pb2.DESCRIPTOR.services_by_name["NotificationsService"],
                notifications_pb2_grpc.add_NotificationsServiceServicer_to_server,
                NotificationsServicer(),
            )
        ],
        revocations=RevocationFeed.of_event("users", users_events.SessionRevoked),
    )


def main() -> None:
    settings = NotificationsSettings()
    run(partial(build, settings), settings=settings, name=NAME)


if __name__ == "__main__":
    main()
