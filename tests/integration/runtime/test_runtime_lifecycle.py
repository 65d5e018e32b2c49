"""The shared runtime's promises: health follows the dependencies, SIGTERM drains calls in flight."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from pathlib import Path
from typing import cast

import grpc
import pytest
from frozen_processes import freeze, thaw
from grpc_health.v1 import health, health_pb2
from prometheus_client import REGISTRY

from services.support.runtime.health import HealthReporter, nats_check, once_passed
from services.support.runtime.infrastructure import Infrastructure
from services.support.runtime.messaging import NatsLink
from services.support.runtime.probes import MESSAGING_SERVICE
from services.support.runtime.server import health_reporter
from services.support.runtime.settings import BaseServiceSettings

pytestmark = pytest.mark.integration
SLOW_SERVICE = Path(__file__).with_name("slow_service.py")
DYING_SERVICE = Path(__file__).with_name("dying_service.py")
REASON = "JetStream cannot reserve 1 GiB for the ingest stream"  # what dying_service.py's task fails with


async def _status_after_one_round(checks, name: str = "") -> int:
    servicer = health.aio.HealthServicer()
    reporter = HealthReporter(servicer, ["athenaeum.test.Svc"], checks, interval=0.05)
    task = asyncio.create_task(reporter.run())
    await asyncio.sleep(0.2)
    task.cancel()
    request = health_pb2.HealthCheckRequest(service=name)
    return (await servicer.Check(request, None)).status


async def test_readiness_follows_postgres_and_not_nats_which_messaging_health_reports(
    postgres, nats, free_port_source
) -> None:
    """As every service composes its health (Infrastructure.app, then serve's reporter): with NATS away the
    service still serves (the outbox keeps the events), so Kubernetes must not take its pods out of the
    Service; NATS shows under "messaging" and in athenaeum_dependency_up instead."""
    away_nats = f"nats://127.0.0.1:{next(free_port_source)}"
    away_db = f"postgresql+asyncpg://postgres@127.0.0.1:{next(free_port_source)}/postgres"
    serving = health_pb2.HealthCheckResponse.SERVING
    not_serving = health_pb2.HealthCheckResponse.NOT_SERVING
    assert await _composed_health(postgres.admin_url, nats) == (serving, serving, serving)
    assert await _composed_health(postgres.admin_url, away_nats) == (serving, serving, not_serving)
    assert REGISTRY.get_sample_value("athenaeum_dependency_up", {"dependency": "nats"}) == 0
    assert REGISTRY.get_sample_value("athenaeum_dependency_up", {"dependency": "postgres"}) == 1
    assert await _composed_health(away_db, nats) == (not_serving, not_serving, serving)
    # A service whose calls write to JetStream themselves (the events service's batches) needs NATS to serve.
    assert await _composed_health(postgres.admin_url, away_nats, writes_to_nats=True) == (
        not_serving,
        not_serving,
        not_serving,
    )


async def _composed_health(database_url: str, nats_url: str, **app_options: bool) -> tuple[int, int, int]:
    """Readiness (""), the API service's name and MESSAGING_SERVICE after one round of a composed app's checks."""
    infra = Infrastructure.open("catalog", BaseServiceSettings(database_url=database_url, nats_url=nats_url))
    linking = asyncio.create_task(infra.nats.run())
    with contextlib.suppress(TimeoutError):  # one that is away never connects
        await asyncio.wait_for(infra.nats.wait_connected(), 2)
    servicer = health.aio.HealthServicer()
    app = infra.app([], revocations=None, **app_options)
    reporter = health_reporter(app, servicer, ["athenaeum.test.Svc"], follower=None)
    task = asyncio.create_task(reporter.run())
    try:
        await asyncio.sleep(1.5)  # a round: the checks time out within a second
        names = ("", "athenaeum.test.Svc", MESSAGING_SERVICE)
        return cast(
            tuple[int, int, int],
            tuple([(await servicer.Check(health_pb2.HealthCheckRequest(service=name), None)).status for name in names]),
        )
    finally:
        task.cancel()
        linking.cancel()
        await infra.nats.close()
        await infra.close_database()


async def test_the_revocation_feed_is_needed_once_before_a_process_is_ready_not_after() -> None:
    """A process that never read the sessions signed out would let them in; one that did may lose NATS."""
    up = [False, True, False]

    async def follower_up() -> bool:
        return up.pop(0)

    latched = once_passed(follower_up)
    assert [await latched() for _ in range(3)] == [False, True, True]


async def test_health_turns_not_serving_while_nats_hangs_and_serving_when_it_answers_again(
    own_nats, infra_supervisor
) -> None:
    """A stopped NATS (SIGSTOP: a stalled disk, a paused VM) keeps the connection open: the link still says
    connected for minutes, but calls through it wait and fail; health must see that within a round."""
    link = NatsLink(own_nats.url, name="health-test-hung")
    linking = asyncio.create_task(link.run())
    await asyncio.wait_for(link.wait_connected(), 10)
    pid = infra_supervisor.process(own_nats.name).pid
    serving = health_pb2.HealthCheckResponse.SERVING
    try:
        assert await _status_after_one_round([nats_check(link, timeout=0.1)]) == serving
        freeze(pid)
        try:
            hung = [await nats_check(link, timeout=0.2)() for _ in range(3)]
            assert link.is_connected and hung == [False] * 3
        finally:
            thaw(pid)
        assert await nats_check(link, timeout=2.0)()
        assert await _status_after_one_round([nats_check(link, timeout=0.1)]) == serving
        assert await link.answers(within=1.0)  # the late answers to the probes did not break the connection
    finally:
        linking.cancel()
        await link.close()


async def test_health_is_not_serving_from_the_start_until_the_first_checks_pass() -> None:
    """grpcio's servicer answers SERVING for "" before anything is set: a probe between the server's start and
    the first round of checks believed a service whose NATS was not connected yet."""
    servicer = health.aio.HealthServicer()
    passed = asyncio.Event()

    async def not_yet() -> bool:
        await passed.wait()
        return True

    reporter = HealthReporter(servicer, ["athenaeum.test.Svc"], [not_yet], interval=0.05)
    await reporter.starting()
    task = asyncio.create_task(reporter.run())
    try:
        for name in ("", "athenaeum.test.Svc"):
            status = (await servicer.Check(health_pb2.HealthCheckRequest(service=name), None)).status
            assert status == health_pb2.HealthCheckResponse.NOT_SERVING, name
        passed.set()
        await asyncio.sleep(0.1)
        status = (await servicer.Check(health_pb2.HealthCheckRequest(service=""), None)).status
        assert status == health_pb2.HealthCheckResponse.SERVING
    finally:
        task.cancel()


async def test_sigterm_lets_calls_in_flight_finish_and_refuses_new_ones(free_port_source) -> None:
    port = next(free_port_source)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        str(SLOW_SERVICE),
        str(port),
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            await asyncio.wait_for(channel.channel_ready(), 20)
            wait = channel.unary_unary("/athenaeum.catalog.v1.CatalogService/GetBook")
            in_flight = asyncio.ensure_future(wait(b"", timeout=10))
            await asyncio.sleep(0.3)
            process.send_signal(signal.SIGTERM)
            await asyncio.sleep(0.3)
            with pytest.raises(grpc.aio.AioRpcError) as refused:  # draining: new calls are refused
                await wait(b"", timeout=2)
            assert refused.value.code() == grpc.StatusCode.UNAVAILABLE, refused.value
            assert process.returncode is None, "refused because it was draining, not because it was gone"
            assert await in_flight == b"done"  # the call that was running finished
        assert await asyncio.wait_for(process.wait(), 15) == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def test_a_service_whose_background_task_died_exits_with_a_failure_and_says_why(free_port_source) -> None:
    """A supervisor must read a crash (and restart it, or tell why it cannot start), not a clean exit."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        str(DYING_SERVICE),
        str(next(free_port_source)),
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,  # one log, as the launcher keeps it
    )
    output, _ = await asyncio.wait_for(process.communicate(), 30)

    assert process.returncode == 1, output.decode()[-2000:]
    last_line = output.decode().strip().splitlines()[-1]
    assert (
        last_line == "dying: background task reserve_stream died: JetStream cannot reserve 1 GiB for the ingest stream"
    )
