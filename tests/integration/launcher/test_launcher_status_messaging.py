"""`athenaeum status` and `up` read a service's messaging health beside its readiness: a service ready without
NATS says so (readiness no longer follows NATS), and `up` waits until its events flow too."""

from __future__ import annotations

import asyncio

import grpc
import pytest
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

from services.support.launcher.readiness import service_health
from services.support.runtime.probes import MESSAGING_SERVICE

pytestmark = pytest.mark.integration
SERVING, NOT_SERVING = health_pb2.HealthCheckResponse.SERVING, health_pb2.HealthCheckResponse.NOT_SERVING


async def test_status_shows_a_service_ready_without_nats_and_up_does_not_take_it_as_serving() -> None:
    servicer = health.aio.HealthServicer()
    server = grpc.aio.server()
    health_pb2_grpc.add_HealthServicer_to_server(servicer, server)
    target = f"127.0.0.1:{server.add_insecure_port('127.0.0.1:0')}"
    await server.start()
    try:
        seen = []
        for ready, messaging in ((SERVING, NOT_SERVING), (SERVING, SERVING), (NOT_SERVING, SERVING)):
            await servicer.set("", ready)
            await servicer.set(MESSAGING_SERVICE, messaging)
            seen.append(await asyncio.to_thread(service_health, target))
        assert seen == ["SERVING (messaging NOT_SERVING)", "SERVING", "NOT_SERVING"]
    finally:
        await server.stop(None)
