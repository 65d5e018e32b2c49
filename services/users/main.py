"""Composition root of the users service: build the graph once, then serve."""

from __future__ import annotations

from datetime import timedelta
from functools import partial

from athenaeum.users.v1 import events_pb2 as users_events
from athenaeum.users.v1 import users_pb2, users_pb2_grpc
from services.support.runtime.auth import RevocationFeed
from services.support.runtime.clock import SystemClock
from services.support.runtime.infrastructure import Infrastructure
from services.support.runtime.server import ServiceApp, run, served
from services.users import events
from services.users.auth_handlers import AuthDeps
from services.users.handlers import bootstrap_admin
from services.users.keys import KeyStore
from services.users.passwords import Passwords
from services.users.repository import SqlUsersUnitOfWork
from services.users.service import AuthServicer, UsersServicer
from services.users.sessions import ThrottlePolicy
from services.users.settings import UsersSettings

NAME = "users"


async def build(settings: UsersSettings) -> ServiceApp:
    infra = Infrastructure.open(NAME, settings)
    clock = SystemClock()
    passwords = Passwords()

    def unit_of_work() -> SqlUsersUnitOfWork:
        return SqlUsersUnitOfWork(infra.sessions, encode=events.encode, on_commit=infra.relay.wake)

    keys = KeyStore(infra.engine, passphrase=settings.signing_key_passphrase.get_secret_value().encode(), clock=clock)
    # Before serving: the first token needs a key, and the first sign-in may be the bootstrap admin's.
    await keys.ensure_key()
    await bootstrap_admin(
        settings.bootstrap_admin_email,
        settings.bootstrap_admin_password.get_secret_value(),
        unit_of_work(),
        clock,
        passwords,
    )
    deps = AuthDeps(
        clock=clock,
        passwords=passwords,
        keys=keys,
        access_ttl=timedelta(seconds=settings.access_token_ttl_seconds),
        refresh_ttl=timedelta(seconds=settings.refresh_token_ttl_seconds),
        throttle=ThrottlePolicy(
            max_failures=settings.login_max_failures,
            window=timedelta(seconds=settings.login_failure_window_seconds),
            lockout=timedelta(seconds=settings.login_lockout_seconds),
        ),
    )
    services = users_pb2.DESCRIPTOR.services_by_name
    return infra.app(
        [
            served(
                services["UsersService"],
                users_pb2_grpc.add_UsersServiceServicer_to_server,
                UsersServicer(uow=unit_of_work, clock=clock, passwords=passwords),
            ),
            served(
                services["AuthService"],
                users_pb2_grpc.add_AuthServiceServicer_to_server,
                AuthServicer(uow=unit_of_work, deps=deps),
            ),
        ],
        revocations=RevocationFeed.of_event("users", users_events.SessionRevoked),
    )


def main() -> None:
    settings = UsersSettings()
    run(partial(build, settings), settings=settings, name=NAME)


if __name__ == "__main__":
    main()
