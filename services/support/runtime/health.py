"""gRPC health that tells the truth about what the service can serve.

Readiness ("" and each API service's name, what Kubernetes' readinessProbe and `up` ask) follows what a service
cannot answer without: its Postgres (and the service's own needs, e.g. the users service's signing keys). NATS
is not one of them: the outbox keeps every event while it is away, so calls still succeed, and a NATS outage
that made every pod unready would take the whole library out of its Services for nothing. NATS and the
consumers are reported under `MESSAGING_SERVICE` instead, and as `athenaeum_dependency_up` (alerts watch it).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence

import sqlalchemy as sa
from grpc_health.v1 import health_pb2
from grpc_health.v1._async import HealthServicer
from sqlalchemy.ext.asyncio import AsyncEngine

from services.support.runtime.messaging import NatsLink
from services.support.runtime.probes import MESSAGING_SERVICE
from services.support.runtime.telemetry import DEPENDENCY_UP

log = logging.getLogger("athenaeum.health")

DependencyCheck = Callable[[], Awaitable[bool]]


def database_check(engine: AsyncEngine, *, timeout: float = 1.0) -> DependencyCheck:
    up = DEPENDENCY_UP.labels("postgres")

    async def check() -> bool:
        try:
            async with asyncio.timeout(timeout), engine.connect() as connection:
                await connection.execute(sa.text("SELECT 1"))
        except Exception:
            up.set(0)
            return False
        up.set(1)
        return True

    return check


def nats_check(link: NatsLink, *, timeout: float = 1.0) -> DependencyCheck:
    """A round trip to NATS's JetStream, not only the connection's flag (see NatsLink.answers)."""
    up = DEPENDENCY_UP.labels("nats")

    async def check() -> bool:
        answers = await link.answers(within=timeout)
        up.set(1 if answers else 0)
        return answers

    return check


def once_passed(check: DependencyCheck) -> DependencyCheck:
    """Passes from the first time `check` passes on: what a process needs once before it serves (the session
    revocations read up to now) but may do without for a while after (the NATS it reads them from away)."""
    passed = False

    async def latched() -> bool:
        nonlocal passed
        passed = passed or await check()
        return passed

    return latched


class HealthReporter:
    """Runs the dependency checks on an interval and publishes the result for "" and every service name (the
    readiness `checks`) and for MESSAGING_SERVICE (the `messaging` checks: NATS and the consumers)."""

    def __init__(
        self,
        servicer: HealthServicer,
        service_names: Sequence[str],
        checks: Sequence[DependencyCheck],
        *,
        interval: float,
        messaging: Sequence[DependencyCheck] = (),
    ) -> None:
        self._servicer = servicer
        self._names = ("", *service_names)
        self._checks = checks
        self._messaging = messaging
        self._interval = interval
        self._serving: bool | None = None
        self._messaging_serving: bool | None = None

    async def run(self) -> None:
        while True:
            ready, messaging = await asyncio.gather(_all(self._checks), _all(self._messaging))
            await self._set_messaging(messaging)
            await self._set(ready)
            # Until first SERVING, look often: the launcher and probes are waiting on it.
            await asyncio.sleep(self._interval if self._serving else min(self._interval, 0.1))

    async def starting(self) -> None:
        """NOT_SERVING until the first checks pass (grpcio's servicer says SERVING for "" by default, which a
        probe asking between the server's start and the first check would believe)."""
        self._messaging_serving = False
        await self._servicer.set(MESSAGING_SERVICE, _status(False))
        await self._set(False)

    async def shut_down(self) -> None:
        """Say NOT_SERVING before draining, so load balancers stop sending new calls."""
        await self._set(False)

    async def _set(self, serving: bool) -> None:
        if serving == self._serving:
            return
        self._serving = serving
        log.info("health is now %s", _status_name(serving))
        for name in self._names:
            await self._servicer.set(name, _status(serving))

    async def _set_messaging(self, serving: bool) -> None:
        if serving == self._messaging_serving:
            return
        log.info("messaging (NATS, consumers) is now %s; readiness does not follow it", _status_name(serving))
        self._messaging_serving = serving
        await self._servicer.set(MESSAGING_SERVICE, _status(serving))


async def _all(checks: Sequence[DependencyCheck]) -> bool:
    return all(await asyncio.gather(*(check() for check in checks)))


def _status(serving: bool) -> health_pb2.HealthCheckResponse.ServingStatus.ValueType:
    return health_pb2.HealthCheckResponse.SERVING if serving else health_pb2.HealthCheckResponse.NOT_SERVING


def _status_name(serving: bool) -> str:
    return health_pb2.HealthCheckResponse.ServingStatus.Name(_status(serving))
