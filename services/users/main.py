"""Composition root of the users service: build the graph once, then serve."""

from __future__ import annotations

from datetime import timedelta
from functools import partial

from sqlalchemy.ext.asyncio import AsyncEngine

from athenaeum.users.v1 import events_pb2 as users_events
from athenaeum.users.v1 import users_pb2, users_pb2_grpc
from services.support.runtime.auth import RevocationFeed, RevocationList
from services.support.runtime.clock import SystemClock
from services.support.runtime.infrastructure import Infrastructure
from services.support.runtime.memory import IdleRelease, use_one_arena
from services.support.runtime.server import ServiceApp, mesh_channel, run, served
from services.support.runtime.settings import read_settings
from services.support.runtime.upkeep import delete_forever
from services.users.api import events
from services.users.api.servicer import AuthServicer, UsersServicer
from services.users.app.admins import BootstrapAdmin, bootstrap_admin
from services.users.app.signing_keys import ensure_signing_key
from services.users.data.password_resets import EXPIRED_RESETS
from services.users.data.passwords import Argon2Passwords
from services.users.data.peers import GrpcCirculation
from services.users.data.sessions import EXPIRED_TOKENS, FINISHED_SESSIONS
from services.users.data.signing_keys import SqlSigningKeys
from services.users.data.throttles import FORGOTTEN_THROTTLES
from services.users.data.unit_of_work import SqlUsersUnitOfWork
from services.users.domain.password_resets import ResetPolicy
from services.users.domain.sessions import TokenLifetimes
from services.users.domain.throttling import SignInThrottling, ThrottlePolicy
from services.users.settings import UsersSettings

NAME = "users"


def signing_keys(engine: AsyncEngine, settings: UsersSettings) -> SqlSigningKeys:
    """The key store, its private keys encrypted with the configured passphrase (cli.py rotates through it)."""
    return SqlSigningKeys(engine, passphrase=settings.signing_key_passphrase.get_secret_value().encode())


async def build(settings: UsersSettings) -> ServiceApp:
    infra = Infrastructure.open(NAME, settings)
    clock = SystemClock()
    # argon2id's 19 MiB per hash, kept by the allocator through a burst of sign-ins, released after it.
    passwords = Argon2Passwords(finished=IdleRelease().touch)
    keys = signing_keys(infra.engine, settings)

    # A change of an account is answered once its event is on the bus (loans lends by a projection of it).
    announce = partial(infra.relay.wait_published, within=settings.announce_timeout_seconds)
    # The sessions this process revokes are refused here at once; the others learn of them from the feed.
    revocations = RevocationList(RevocationFeed.of_event("users", users_events.SessionRevoked))

    def unit_of_work() -> SqlUsersUnitOfWork:
        return SqlUsersUnitOfWork(
            infra.sessions,
            encode=events.encode,
            on_commit=infra.relay.wake,
            read_sessions=infra.read_sessions,
            announce=announce,
            revoked=revocations.apply,
        )

    # Before serving: the first token needs a key, and the first sign-in may be the bootstrap admin's.
    await ensure_signing_key(keys=keys, clock=clock)
    admin = BootstrapAdmin(settings.bootstrap_admin_email, settings.bootstrap_admin_password.get_secret_value())
    await bootstrap_admin(admin, uow=unit_of_work(), clock=clock, passwords=passwords)
    lifetimes = TokenLifetimes(
        access=timedelta(seconds=settings.access_token_ttl_seconds),
        refresh=timedelta(seconds=settings.refresh_token_ttl_seconds),
    )
    throttling = sign_in_throttling(settings)
    channel = mesh_channel(settings)  # closing an account asks loans what the patron still has out
    circulation = GrpcCirculation(channel, timeout=settings.peer_timeout_seconds)
    services = users_pb2.DESCRIPTOR.services_by_name
    app = infra.app(
        [
            served(
                services["UsersService"],
                users_pb2_grpc.add_UsersServiceServicer_to_server,
                UsersServicer(
                    uow=unit_of_work,
                    clock=clock,
                    passwords=passwords,
                    throttling=throttling,
                    circulation=circulation,
                    library_zone=settings.library_zone,  # a membership lasts to the end of its last day there
                    branches=settings.branches,  # an account's home branch is one of them
                ),
            ),
            served(
                services["AuthService"],
                users_pb2_grpc.add_AuthServiceServicer_to_server,
                AuthServicer(
                    uow=unit_of_work,
                    clock=clock,
                    passwords=passwords,
                    keys=keys,
                    lifetimes=lifetimes,
                    throttling=throttling,
                    resets=ResetPolicy(lifetime=timedelta(seconds=settings.password_reset_ttl_seconds)),
                    reset_answer_floor=settings.password_reset_answer_seconds,
                ),
            ),
        ],
        revocations=revocations,
        background=[partial(forget_what_is_over, infra.engine, throttling)],
        checks=[keys.opens],  # a passphrase that opens no key: not ready (no sign-in, no JWKS)
    )
    app.closers = [*app.closers, partial(channel.close, None)]
    return app


async def forget_what_is_over(engine: AsyncEngine, throttling: SignInThrottling) -> None:
    """Background task, hourly: sessions past their every token, refresh tokens past their expiry (one is
    stored per refresh), sign-in throttles whose failures are all forgotten, and password resets past expiry."""
    slowest = max(throttling.account_from_client.forget_one_every, throttling.client.forget_one_every)
    await delete_forever(
        engine,
        [EXPIRED_TOKENS, FINISHED_SESSIONS, FORGOTTEN_THROTTLES, EXPIRED_RESETS],
        {"forget_one_every": slowest},
        what="finished sessions, expired tokens, forgotten throttles and expired password resets",
    )


def sign_in_throttling(settings: UsersSettings) -> SignInThrottling:
    """Growing delays after failed sign-ins: an account's failures from one address are forgotten one every
    5 minutes, an address's over every account one every 10 seconds (a sprayer's pace, not a person's)."""
    longest = timedelta(seconds=settings.sign_in_max_delay_seconds)
    return SignInThrottling(
        account_from_client=ThrottlePolicy(
            settings.sign_in_free_failures_per_account, timedelta(minutes=5), timedelta(seconds=1), longest
        ),
        client=ThrottlePolicy(
            settings.sign_in_free_failures_per_client, timedelta(seconds=10), timedelta(seconds=1), longest
        ),
    )


def main() -> None:
    settings = read_settings(UsersSettings)  # a wrong setting: one line naming it, exit 1
    use_one_arena()  # before any worker thread: one trim then releases what every hashing thread freed
    run(partial(build, settings), settings=settings, name=NAME)


if __name__ == "__main__":
    main()
