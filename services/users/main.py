"""Composition root of the users service: build the graph once, then serve."""

from __future__ import annotations

from functools import partial

from athenaeum.users.v1 import users_pb2_grpc
from services.runtime.infrastructure import Infrastructure
from services.runtime.server import ServiceApp, run
from services.users.service import AuthServicer, UsersServicer
from services.users.settings import UsersSettings

NAME = "users"


async def build(settings: UsersSettings) -> ServiceApp:
    infra = Infrastructure.open(NAME, settings)
    return infra.app(
        [
            partial(users_pb2_grpc.add_UsersServiceServicer_to_server, UsersServicer()),
            partial(users_pb2_grpc.add_AuthServiceServicer_to_server, AuthServicer()),
        ]
    )


def main() -> None:
    settings = UsersSettings()
    run(partial(build, settings), settings=settings, name=NAME)


if __name__ == "__main__":
    main()
