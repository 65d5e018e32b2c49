"""Session fixtures: real Postgres, NATS and the whole mesh, each started once, only when a test asks.

A unit-only run starts nothing (and imports none of the launcher). Everything runs on free ports in a
temporary folder and is stopped at the end of the session, even when tests fail. Set DATABASE_URL /
NATS_URL to use servers of your own instead of the bundled ones.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

import services  # noqa: F401 - first, before any test module imports grpc: it sets how gRPC treats fork()

if TYPE_CHECKING:
    from services.support.launcher.mesh import LocalMesh
    from services.support.launcher.nats import LocalNats
    from services.support.launcher.postgres import PostgresServer
    from services.support.launcher.processes import Supervisor
    from services.support.launcher.sink_servers import LocalSinks, SinkClient


@pytest.fixture(scope="session")
def free_port_source() -> Iterator[int]:
    """One source of free ports for the whole session, so no two fixtures get the same one."""
    from services.support.mesh.topology import free_ports

    return free_ports()


@pytest.fixture(scope="session")
def launcher_dir(request: pytest.FixtureRequest) -> Iterator[Path]:
    """Data folder of the session's servers; kept (and printed) when a test failed, for its logs."""
    path = Path(tempfile.mkdtemp(prefix="athenaeum-test-"))
    path.chmod(0o755)  # Postgres runs as its own account when the tests run as root
    yield path
    if request.session.testsfailed:
        print(f"\nlogs of the session's servers kept in {path / 'logs'}")
    else:
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
def infra_supervisor(launcher_dir: Path) -> Iterator[Supervisor]:
    """Parent of the session's Postgres and NATS; stops whatever is left at the end."""
    from services.support.launcher.processes import Supervisor

    supervisor = Supervisor(launcher_dir / "logs")
    try:
        yield supervisor
    finally:
        supervisor.stop_all()


@pytest.fixture(scope="session")
def postgres(launcher_dir: Path, infra_supervisor: Supervisor, free_port_source: Iterator[int]) -> PostgresServer:
    """A Postgres server: `.admin_url`, `.url_for(db)`, `.create_database(name)`, `.fresh_database()`."""
    from services.support.launcher.local_postgres import LocalPostgres
    from services.support.launcher.postgres import PostgresServer

    if url := os.environ.get("DATABASE_URL"):
        return PostgresServer(url)
    server = LocalPostgres(launcher_dir / "postgres", next(free_port_source), infra_supervisor)
    server.start()
    return server


@pytest.fixture(scope="session")
def nats_server(launcher_dir: Path, infra_supervisor: Supervisor, free_port_source: Iterator[int]) -> LocalNats | None:
    """The session's JetStream-enabled NATS server, with a user per service (None: NATS_URL names another)."""
    from services.support.launcher.nats import LocalNats

    if os.environ.get("NATS_URL"):
        return None
    server = LocalNats(launcher_dir / "nats", next(free_port_source), infra_supervisor)
    server.start()
    return server


@pytest.fixture(scope="session")
def nats(nats_server: LocalNats | None) -> str:
    """The operator's URL of a JetStream-enabled NATS server (every right)."""
    return nats_server.url if nats_server is not None else os.environ["NATS_URL"]


@pytest.fixture(scope="session")
def sinks(launcher_dir: Path, infra_supervisor: Supervisor, free_port_source: Iterator[int]) -> LocalSinks:
    """The local mail sink (SMTP) and SMS sink (Twilio-style HTTP): `.addresses`, `.process(name)` to stop
    and start one (LocalSinks.MAIL / LocalSinks.SMS), `.wait_ready(name)`."""
    from services.support.launcher.sink_servers import LocalSinks, SinkAddresses

    addresses = SinkAddresses(next(free_port_source), next(free_port_source), next(free_port_source))
    local = LocalSinks(launcher_dir / "sinks", addresses, infra_supervisor)
    local.start()
    return local


@pytest.fixture(scope="session")
def mail_sink(sinks: LocalSinks) -> SinkClient:
    """What the mail sink received: `.count()`, `.messages(since=…)`, `.message(n)` (with text and html)."""
    from services.support.launcher.sink_servers import LocalSinks

    return sinks.client(LocalSinks.MAIL)


@pytest.fixture(scope="session")
def sms_sink(sinks: LocalSinks) -> SinkClient:
    """What the SMS sink received: `.count()`, `.messages(since=…)` (to, body, idempotency_key)."""
    from services.support.launcher.sink_servers import LocalSinks

    return sinks.client(LocalSinks.SMS)


E2E_LIBRARY_BRANCHES = "MAIN,EAST,WEST,NORTH,SHELFHERE,SHELFTHERE,PULLMAIN,PULLEAST"
"""ATHENAEUM_LIBRARY_BRANCHES of the session's mesh: the demo library's four (`athenaeum catalog demo` puts copies
at each), SHELFHERE and SHELFTHERE, the web's per-branch lists' own (their counts are exact: nothing else is held for
them), and PULLMAIN and PULLEAST, the web pull list's (a page of 100 rows at MAIN or EAST may not reach a
test's own hold after the session's other tests)."""


@pytest.fixture(scope="session")
def mesh(
    launcher_dir: Path,
    postgres: PostgresServer,
    nats: str,
    nats_server: LocalNats | None,
    sinks: LocalSinks,
    free_port_source: Iterator[int],
) -> Iterator[LocalMesh]:
    """The whole mesh (services, sidecars, edge) on the session's Postgres and NATS, ready to serve; each service
    signs in to NATS as itself, as it does everywhere, so the suite proves the NATS rights are enough."""
    from services.support.launcher.layout import local_mesh_topology
    from services.support.launcher.mesh import LocalMesh

    data_dir = launcher_dir / "mesh"
    topology = local_mesh_topology(
        data_dir,
        ports=free_port_source,
        edge_port=next(free_port_source),
        edge_admin_port=next(free_port_source),
        cors_origins=("https://ui.athenaeum.test",),  # the e2e tier checks CORS against it
    )
    local_mesh = LocalMesh(
        data_dir,
        topology,
        database_url=postgres.admin_url,
        nats_url=nats,
        nats_url_for=nats_server.url_for if nats_server is not None else None,
        sinks=sinks.addresses,
        run_sinks=False,
        # The e2e library lists its branches, as a deployment would (restarted services too): the codes the e2e
        # tests use, in any letter case; another is refused (no copy sent nowhere). The mesh's own setting, not
        # the test process's environment, which the unit tests run after it in the same session read.
        environment={"ATHENAEUM_LIBRARY_BRANCHES": E2E_LIBRARY_BRANCHES},
    )
    local_mesh.start()  # a failed start has already stopped what it started
    try:
        yield local_mesh
    finally:
        local_mesh.stop()
