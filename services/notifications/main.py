"""Composition root of the notifications service: build the graph once, then serve."""

from __future__ import annotations

from functools import partial

from athenaeum.notifications.v1 import notifications_pb2_grpc
from services.notifications.service import NotificationsServicer
from services.notifications.settings import NotificationsSettings
from services.support.runtime.infrastructure import Infrastructure
from services.support.runtime.server import ServiceApp, run

NAME = "notifications"


async def build(settings: NotificationsSettings) -> ServiceApp:
    infra = Infrastructure.open(NAME, settings)
    return infra.app(
        [
            partial(notifications_pb2_grpc.add_NotificationsServiceServicer_to_server, NotificationsServicer()),
        ]
    )


def main() -> None:
    settings = NotificationsSettings()
    run(partial(build, settings), settings=settings, name=NAME)


if __name__ == "__main__":
    main()
