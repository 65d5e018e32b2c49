"""kill -9 of the events service, then of NATS, then of Postgres, while clients record: every accepted event
is stored exactly once, and clients are told UNAVAILABLE (never left hanging) while a part is down.

Servers of the test's own (private Postgres and NATS, the service as a real process), so the session's
servers are never killed. The client calls the service directly on its socket (in a folder only this user
may enter, as the service's sidecar would), with the metadata the edge and the sidecar would add.
"""

from __future__ import annotations

import asyncio
import base64
import json
import multiprocessing
import os
import signal
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import kill9_clients
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

from services.support.launcher.components import REPO_ROOT
from services.support.launcher.local_postgres import LocalPostgres
from services.support.launcher.nats import LocalNats
from services.support.launcher.process_groups import descendants
from services.support.launcher.processes import ProcessSpec, Supervisor
from services.support.launcher.readiness import grpc_health_status, wait_until
from services.support.mesh.registry import EDGE, spiffe_id
from services.support.mesh.topology import private_socket_dir
from services.support.runtime.identity import ACCESS_TOKEN_AUDIENCE, ACCESS_TOKEN_ISSUER, CLAIMS_HEADER
from services.support.runtime.migrations import upgrade_to_head

pytestmark = pytest.mark.integration


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
        self.nats = LocalNats(root / "nats", next(ports), self.supervisor)
        self.socket = private_socket_dir(root / "run") / "events.sock"
        self.database_url = ""

    def start(self) -> None:
        self.postgres.start()
        self.nats.start()
        self.database_url = self.postgres.create_database("events")
        upgrade_to_head("events", self.database_url)
        env = {
            **os.environ,
            "ATHENAEUM_SOCKET": str(self.socket),
            "ATHENAEUM_DATABASE_URL": self.database_url,
            "ATHENAEUM_NATS_URL": self.nats.url,
            "ATHENAEUM_ENVIRONMENT": "test",
            "ATHENAEUM_LOG_LEVEL": "WARNING",
            "ATHENAEUM_HEALTH_CHECK_INTERVAL_SECONDS": "0.2",
            "ATHENAEUM_STORE_ACK_WAIT_SECONDS": "2",
            "ATHENAEUM_STORE_PROCESSES": "1",  # the store in a process of its own, which one test kills
            "PYTHONPATH": f"{REPO_ROOT}{os.pathsep}{REPO_ROOT / 'gen' / 'python'}",
        }
        self.supervisor.start(
            ProcessSpec("events", [sys.executable, "-m", "services.events.main"], env=env, cwd=REPO_ROOT)
        )
        self.wait_serving()

    def wait_serving(self) -> None:
        process = self.supervisor.process("events")
        target = self.target
        wait_until(
            lambda: grpc_health_status(target) == "SERVING", timeout=60, what="events", check_alive=process.check_alive
        )

    @property
    def target(self) -> str:
        return f"unix:{self.socket}"

    def kill_and_restart(self, name: str, *, down_until: Callable[[], bool] = lambda: True) -> None:
        """kill -9 `name`, keep it down until `down_until()` holds (at most 10 s), then start it again."""
        process = self.supervisor.process(name)
        process.kill()
        deadline = time.monotonic() + 10
        while not down_until() and time.monotonic() < deadline:
            time.sleep(0.05)
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


async def stored_ids(database_url: str, expected: int) -> list[str]:
    """The ids stored, once as many as `expected` are there (or after a minute)."""
    engine = create_async_engine(database_url)
    try:
        deadline = time.monotonic() + 60
        while True:
            async with engine.connect() as connection:
                query = sa.text("SELECT id::text FROM events WHERE type = 'test.kill'")
                rows = list((await connection.execute(query)).scalars())
            if len(set(rows)) >= expected or time.monotonic() > deadline:
                return rows
            await asyncio.sleep(0.5)
    finally:
        await engine.dispose()


def test_every_accepted_event_is_stored_exactly_once_across_kill_9s(world: World, tmp_path: Path) -> None:
    context = multiprocessing.get_context("spawn")
    stop, refused, output = context.Event(), context.Value("i", 0), tmp_path / "accepted.json"
    target = world.target
    load = context.Process(target=kill9_clients.run, args=(target, as_edge_admin(), 3, stop, refused, str(output)))
    load.start()
    refusals = {}
    try:
        for name in ("events", "nats", "postgres"):
            time.sleep(1.0)
            before = refused.value
            # In this thread: no asyncio or gRPC thread is busy while it forks. The events service and NATS stay
            # down until a client was refused (on a busy machine a quick restart could go unnoticed); Postgres
            # being away refuses nobody (accepted events wait in JetStream).
            refusing = name != "postgres"
            world.kill_and_restart(name, down_until=lambda: not refusing or refused.value > before)  # noqa: B023
            time.sleep(0.5)
            refusals[name] = refused.value - before
    finally:
        stop.set()
        load.join(60)
    assert load.exitcode == 0, "a client saw something other than UNAVAILABLE or RESOURCE_EXHAUSTED"
    assert refusals["events"] > 0 and refusals["nats"] > 0, refusals
    accepted = set(json.loads(output.read_text()))
    assert len(accepted) >= 3 * 200

    rows = asyncio.run(stored_ids(world.database_url, len(accepted)))
    assert len(rows) == len(set(rows)), "an event was stored twice"
    assert accepted <= set(rows), f"{len(accepted - set(rows))} accepted events were lost"


def store_processes(pid: int) -> list[int]:
    """The store processes below the events service (forked by its zygote; named after their role)."""
    return [child for child in descendants(pid) if _command_name(child).startswith("events-store")]


def _command_name(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text()
    except OSError:  # it ended meanwhile
        return ""


def test_a_store_process_killed_mid_run_loses_nothing_and_the_service_says_so_meanwhile(
    world: World, tmp_path: Path
) -> None:
    events = world.supervisor.process("events")
    assert events.pid is not None
    wait_until(lambda: len(store_processes(events.pid)) == 1, timeout=30, what="the store process")
    [store] = store_processes(events.pid)
    context = multiprocessing.get_context("spawn")
    stop, refused, output = context.Event(), context.Value("i", 0), tmp_path / "accepted.json"
    arguments = (world.target, as_edge_admin(), 3, stop, refused, str(output))
    load = context.Process(target=kill9_clients.run, args=arguments)
    load.start()
    try:
        time.sleep(1.5)
        os.kill(store, signal.SIGKILL)
        wait_until(lambda: grpc_health_status(world.target) == "NOT_SERVING", timeout=10, what="NOT_SERVING")
        world.wait_serving()  # a new store process took over
        [restarted] = store_processes(events.pid)
        assert restarted != store
        time.sleep(1.0)
    finally:
        stop.set()
        load.join(60)
    assert load.exitcode == 0, "a client saw something other than UNAVAILABLE or RESOURCE_EXHAUSTED"
    assert refused.value == 0, "accepting does not depend on the store process"
    accepted = set(json.loads(output.read_text()))
    assert len(accepted) >= 3 * 200

    rows = asyncio.run(stored_ids(world.database_url, len(accepted)))
    assert len(rows) == len(set(rows)), "an event was stored twice"
    assert accepted <= set(rows), f"{len(accepted - set(rows))} accepted events were lost"
