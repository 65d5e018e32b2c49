"""kill -9 of the events service, then of NATS, then of Postgres, while clients record: every accepted event
is stored exactly once, and clients are told UNAVAILABLE (never left hanging) while a part is down.

Servers of the test's own (private Postgres and NATS, the service as a real process), so the session's
servers are never killed. The client calls the service directly, with the metadata the edge and the
sidecar would add.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import grpc
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

from athenaeum.events.v1 import events_pb2, events_pb2_grpc
from services.support.launcher.components import REPO_ROOT
from services.support.launcher.nats import LocalNats
from services.support.launcher.postgres import LocalPostgres
from services.support.launcher.processes import ProcessSpec, Supervisor
from services.support.launcher.readiness import grpc_health_status, wait_until
from services.support.mesh.registry import EDGE, spiffe_id
from services.support.runtime.identity import ACCESS_TOKEN_AUDIENCE, ACCESS_TOKEN_ISSUER, CLAIMS_HEADER
from services.support.runtime.migrations import upgrade_to_head
from services.support.runtime.wire import timestamp

pytestmark = pytest.mark.integration
RETRIED = {grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.RESOURCE_EXHAUSTED, grpc.StatusCode.DEADLINE_EXCEEDED}


def as_edge_admin() -> tuple[tuple[str, str], ...]:
    claims = {
        "iss": ACCESS_TOKEN_ISSUER,
        "aud": ACCESS_TOKEN_AUDIENCE,
        "sub": f"users/{uuid.uuid4()}",
        "role": "admin",
        "sid": "kill9",
        "exp": int(time.time()) + 3600,
    }
    encoded = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    return (("x-forwarded-client-cert", f"By={spiffe_id('events')};URI={spiffe_id(EDGE)}"), (CLAIMS_HEADER, encoded))


class World:
    def __init__(self, root: Path, ports: Iterator[int]) -> None:
        self.supervisor = Supervisor(root / "logs")
        self.postgres = LocalPostgres(root / "postgres", next(ports), self.supervisor)
        self.nats = LocalNats(root / "nats", next(ports), next(ports), self.supervisor)
        self.port = next(ports)
        self.database_url = ""

    def start(self) -> None:
        self.postgres.start()
        self.nats.start()
        self.database_url = self.postgres.create_database("events")
        upgrade_to_head("events", self.database_url)
        env = {
            **os.environ,
            "ATHENAEUM_PORT": str(self.port),
            "ATHENAEUM_DATABASE_URL": self.database_url,
            "ATHENAEUM_NATS_URL": self.nats.url,
            "ATHENAEUM_ENVIRONMENT": "test",
            "ATHENAEUM_LOG_LEVEL": "WARNING",
            "ATHENAEUM_HEALTH_CHECK_INTERVAL_SECONDS": "0.2",
            "ATHENAEUM_STORE_ACK_WAIT_SECONDS": "2",
            "PYTHONPATH": f"{REPO_ROOT}{os.pathsep}{REPO_ROOT / 'gen' / 'python'}",
        }
        self.supervisor.start(
            ProcessSpec("events", [sys.executable, "-m", "services.events.main"], env=env, cwd=REPO_ROOT)
        )
        self.wait_serving()

    def wait_serving(self) -> None:
        process = self.supervisor.process("events")
        target = f"127.0.0.1:{self.port}"
        wait_until(
            lambda: grpc_health_status(target) == "SERVING", timeout=60, what="events", check_alive=process.check_alive
        )

    def kill_and_restart(self, name: str) -> None:
        process = self.supervisor.process(name)
        process.kill()
        process.start()
        {"postgres": self.postgres.wait_ready, "nats": self.nats.wait_ready, "events": self.wait_serving}[name]()


@pytest.fixture
def world(launcher_dir: Path, free_port_source) -> Iterator[World]:
    world = World(launcher_dir / f"kill9-{uuid.uuid4().hex[:6]}", free_port_source)
    try:
        world.start()
        yield world
    finally:
        world.supervisor.stop_all()


class Clients:
    """Concurrent clients sending batches, each retried (same request id, same names) until accepted."""

    def __init__(self, target: str) -> None:
        self.target = target
        self.accepted: set[str] = set()
        self.codes: Counter[grpc.StatusCode] = Counter()
        self.running = True

    async def run(self, client: int) -> None:
        async with grpc.aio.insecure_channel(self.target) as channel:
            stub = events_pb2_grpc.EventsServiceStub(channel)
            while self.running:
                request = events_pb2.BatchRecordEventsRequest(
                    events=[
                        events_pb2.Event(
                            name=f"events/{uuid.uuid4()}",
                            type="test.kill",
                            occur_time=timestamp(datetime.now(UTC)),
                            source=f"c{client}",
                        )
                        for _ in range(200)
                    ],
                    request_id=str(uuid.uuid4()),
                )
                while True:
                    try:
                        await stub.BatchRecordEvents(request, metadata=as_edge_admin(), timeout=5)
                    except grpc.aio.AioRpcError as error:
                        self.codes[error.code()] += 1
                        assert error.code() in RETRIED, f"{error.code()}: {error.details()}"
                        await asyncio.sleep(0.2)
                        continue
                    self.codes[grpc.StatusCode.OK] += 1
                    self.accepted.update(event.name.removeprefix("events/") for event in request.events)
                    break
                await asyncio.sleep(0.02)


async def test_every_accepted_event_is_stored_exactly_once_across_kill_9s(world: World) -> None:
    clients = Clients(f"127.0.0.1:{world.port}")
    load = [asyncio.create_task(clients.run(n)) for n in range(3)]
    seen_unavailable = {}
    try:
        for name in ("events", "nats", "postgres"):
            await asyncio.sleep(1.0)
            before = clients.codes[grpc.StatusCode.UNAVAILABLE] + clients.codes[grpc.StatusCode.DEADLINE_EXCEEDED]
            await asyncio.to_thread(world.kill_and_restart, name)
            await asyncio.sleep(0.5)
            after = clients.codes[grpc.StatusCode.UNAVAILABLE] + clients.codes[grpc.StatusCode.DEADLINE_EXCEEDED]
            seen_unavailable[name] = after - before
    finally:
        clients.running = False
        await asyncio.gather(*load)
    assert seen_unavailable["events"] > 0 and seen_unavailable["nats"] > 0, (seen_unavailable, clients.codes)
    assert len(clients.accepted) >= 3 * 200

    engine = create_async_engine(world.database_url)
    try:
        deadline = time.monotonic() + 60
        while True:
            async with engine.connect() as connection:
                rows = (
                    (await connection.execute(sa.text("SELECT id::text FROM events WHERE type = 'test.kill'")))
                    .scalars()
                    .all()
                )
            if len(set(rows)) >= len(clients.accepted) or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.5)
    finally:
        await engine.dispose()
    assert len(rows) == len(set(rows)), "an event was stored twice"
    assert clients.accepted <= set(rows), f"{len(clients.accepted - set(rows))} accepted events were lost"
