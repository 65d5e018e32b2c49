"""The connections every service holds (Postgres engine, NATS link, outbox relay), opened once in main.py."""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from services.support.runtime.auth import RevocationFeed, RevocationList
from services.support.runtime.consumers import DurableConsumer
from services.support.runtime.engine import create_engine, read_session_factory, session_factory
from services.support.runtime.followers import Follower
from services.support.runtime.health import DependencyCheck, database_check, nats_check
from services.support.runtime.lending import Lender, lend_from
from services.support.runtime.messaging import NatsLink
from services.support.runtime.outbox import PUBLISHED_LONG_AGO
from services.support.runtime.outbox_relay import OutboxRelay
from services.support.runtime.request_ledger import RequestLedger
from services.support.runtime.server import Served, ServiceApp
from services.support.runtime.settings import BaseServiceSettings
from services.support.runtime.upkeep import delete_forever


@dataclass
class Infrastructure:
    name: str
    settings: BaseServiceSettings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    read_sessions: async_sessionmaker[AsyncSession]  # autocommit: see read_session_factory
    nats: NatsLink
    relay: OutboxRelay
    lender: Lender  # the driver's connections between units of work (runtime/lending.py)

    @classmethod
    def open(cls, name: str, settings: BaseServiceSettings, *, context: str | None = None) -> Infrastructure:
        """Builds clients; nothing connects until the service starts (no I/O at import or build time).
        `context`: the service's (whose stream it declares), when `name` is not it (a worker process)."""
        engine = create_engine(settings)
        # Half the pool at most, so sessions always have the other half and the overflow.
        lender = lend_from(
            engine, keep=max(1, settings.db_pool_size // 2), max_idle=settings.db_connection_max_idle_seconds
        )
        nats = NatsLink(
            settings.nats_url,
            name=name,
            stream_replicas=settings.jetstream_replicas,
            owner=context or name,
            user=settings.nats_user,
            password=settings.nats_password.get_secret_value(),
            ca_file=settings.nats_ca_file,
            tls_hostname=settings.nats_tls_hostname,
        )
        return cls(
            name=name,
            settings=settings,
            engine=engine,
            sessions=session_factory(engine),
            read_sessions=read_session_factory(engine),
            nats=nats,
            relay=OutboxRelay(engine, nats, poll_seconds=settings.outbox_poll_seconds),
            lender=lender,
        )

    def app(
        self,
        services: Sequence[Served],
        *,
        revocations: RevocationFeed | RevocationList | None,
        consumers: Sequence[DurableConsumer | Follower] = (),
        background: Sequence[Callable[[], Coroutine[Any, Any, None]]] = (),
        checks: Sequence[DependencyCheck] = (),
        request_ledger: bool = True,
        writes_to_nats: bool = False,
        max_message_bytes: int | None = None,
    ) -> ServiceApp:
        """The ServiceApp for `serve`: readiness follows Postgres and `checks`, messaging's health NATS and every
        consumer; the relay, the NATS link and the consumers run alongside; request_ids are claimed in the
        service's database, unless the service keeps its requests idempotent another way (`request_ledger=False`)."""
        requests = RequestLedger(self.engine, keep=timedelta(hours=self.settings.request_ids_kept_hours))
        return ServiceApp(
            name=self.name,
            settings=self.settings,
            services=services,
            revocations=revocations,
            nats=self.nats,
            health_checks=[database_check(self.engine), *([nats_check(self.nats)] if writes_to_nats else []), *checks],
            messaging_checks=[nats_check(self.nats), *(consumer.health.check for consumer in consumers)],
            background=[
                self.nats.run,
                self.relay.run,
                *([requests.expire_forever] if request_ledger else []),
                self.sweep_outbox,
                *(consumer.run for consumer in consumers),
                *background,
            ],
            closers=[
                *([requests.close] if request_ledger else []),
                self.relay.mark_published,
                self.nats.close,
                self.close_database,
            ],
            requests=requests if request_ledger else None,
            max_message_bytes=max_message_bytes,
        )

    async def close_database(self) -> None:
        """The driver's idle connections, then every connection of the pool, closed."""
        await self.lender.close()
        await self.engine.dispose()

    async def sweep_outbox(self) -> None:
        """Background task: forget the events published more than `outbox_kept_hours` ago."""
        keep = timedelta(hours=self.settings.outbox_kept_hours)
        await delete_forever(self.engine, [PUBLISHED_LONG_AGO], {"keep": keep}, what="published outbox rows")
