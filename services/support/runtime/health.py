"""gRPC health that tells the truth: SERVING only while the service's Postgres and NATS answer."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence

import sqlalchemy as sa
from grpc_health.v1 import health_pb2
from grpc_health.v1._async import HealthServicer
from sqlalchemy.ext.asyncio import AsyncEngine

from services.support.runtime.messaging import NatsLink

log = logging.getLogger("athenaeum.health")

DependencyCheck = Callable[[], Awaitable[bool]]


def database_check(engine: AsyncEngine, *, timeout: float = 1.0) -> DependencyCheck:
    async def check() -> bool:
        try:
            async with asyncio.timeout(timeout), engine.connect() as connection:
                await connection.execute(sa.text("SELECT 1"))
        except Exception:
            return False
        return True

    return check


def nats_check(link: NatsLink, *, timeout: float = 1.0) -> DependencyCheck:
    """A round trip to NATS's JetStream, not only the connection's flag (see NatsLink.answers)."""

    async def check() -> bool:
        return await link.answers(within=timeout)

    return check


class HealthReporter:
    """Runs the dependency checks on an interval and publishes the result for "" and every service name."""

    def __init__(
        self,
        servicer: HealthServicer,
        service_names: Sequence[str],
        checks: Sequence[DependencyCheck],
        *,
        interval: float,
    ) -> None:
        self._servicer = servicer
        self._names = ("", *service_names)
        self._checks = checks
        self._interval = interval
        self._serving: bool | None = None

    async def run(self) -> None:
        while True:
            results = await asyncio.gather(*(check() for check in self._checks))
            await self._set(all(results))
            # Until first SERVING, look often: the launcher and probes are waiting on it.
            await asyncio.sleep(self._interval if self._serving else min(self._interval, 0.1))

    async def starting(self) -> None:
        """NOT_SERVING until the first checks pass (grpcio's servicer says SERVING for "" by default, which a
        probe asking between the server's start and the first check would believe)."""
        await self._set(False)

    async def shut_down(self) -> None:
        """Say NOT_SERVING before draining, so load balancers stop sending new calls."""
        await self._set(False)

    async def _set(self, serving: bool) -> None:
        if serving == self._serving:
            return
        self._serving = serving
        status = health_pb2.HealthCheckResponse.SERVING if serving else health_pb2.HealthCheckResponse.NOT_SERVING
        log.info("health is now %s", health_pb2.HealthCheckResponse.ServingStatus.Name(status))
        for name in self._names:
            await self._servicer.set(name, status)
