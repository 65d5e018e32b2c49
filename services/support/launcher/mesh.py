"""The whole mesh on one machine, no containers: Postgres, NATS, the services, their sidecars and the edge.

`LocalMesh` has a synchronous API: `start()` returns once every service's gRPC health is SERVING and
every Envoy's admin says LIVE; `stop()` stops everything it started, even after a failed start. Call
both from the same long-lived thread (the CLI's main thread, a pytest session fixture).
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from services.support.launcher import components, state
from services.support.launcher.local_postgres import LocalPostgres
from services.support.launcher.mesh_endpoints import MeshEndpoints
from services.support.launcher.mesh_processes import MeshProcesses
from services.support.launcher.nats import LocalNats
from services.support.launcher.ownership import private_folder
from services.support.launcher.postgres import PostgresServer
from services.support.launcher.processes import ManagedProcess, Supervisor
from services.support.launcher.readiness import (
    envoy_is_live,
    service_health,
    wait_until,
)
from services.support.launcher.sink_servers import LocalSinks, SinkAddresses
from services.support.mesh import registry
from services.support.mesh.topology import Topology, free_ports

log = logging.getLogger("athenaeum.launcher")


class StartupAborted(RuntimeError):
    """Another part of the start-up failed first."""


class LocalMesh(MeshProcesses, MeshEndpoints):
    """Runs a `local_topology` mesh under `data_dir` (logs, certs, Envoy configs, Postgres, JetStream)."""

    def __init__(
        self,
        data_dir: Path,
        topology: Topology,
        *,
        database_url: str | None = None,
        nats_url: str | None = None,
        nats_url_for: Callable[[str], str] | None = None,
        services: Sequence[str] | None = None,
        envoys: bool = True,
        postgres_port: int | None = None,
        postgres_tcp: bool = False,
        nats_port: int | None = None,
        sinks: SinkAddresses | None = None,
        run_sinks: bool = True,
        envoy_log_level: str = "warn",
        ready_timeout: float = 60.0,
        environment: Mapping[str, str] | None = None,
        progress: Callable[[str], None] = lambda step: None,
        warn: Callable[[str], None] = log.warning,
    ):
        super().__init__(topology)
        self.data_dir = data_dir.resolve()
        self.services = tuple(services) if services is not None else tuple(s.name for s in registry.SERVICES)
        for name in self.services:
            registry.service(name)  # unknown names fail here, not half way through start()
        self.envoys = envoys
        self.envoy_log_level = envoy_log_level
        self.ready_timeout = ready_timeout
        self._environment = dict(environment or {})
        self._progress = progress
        self.startup_seconds: float | None = None
        self._supervisor = Supervisor(self.data_dir / "logs", on_change=lambda _: self._record_state())
        self._aborting = False
        self.ready = False
        self._state_lock = threading.Lock()
        self._state = state.StateRecorder(self.data_dir, warn)
        self._claim: int | None = None  # the descriptor holding the data folder's lock while the mesh runs
        spare = free_ports()
        self._local_postgres = (
            None
            if database_url
            else LocalPostgres(
                self.data_dir / "postgres", postgres_port or next(spare), self._supervisor, tcp=postgres_tcp
            )
        )
        self.postgres: PostgresServer = self._local_postgres or PostgresServer(database_url or "")
        self._local_nats = (
            None
            if nats_url
            else LocalNats(
                self.data_dir / "nats", nats_port or next(spare), self._supervisor, ca_dir=self.topology.cert_dir
            )
        )
        self.nats_url: str = self._local_nats.url if self._local_nats else nats_url or ""
        self._nats_url_for = self._local_nats.url_for if self._local_nats else nats_url_for
        """Each service's own NATS URL (its user): ours, or that of a NATS run elsewhere (the test session's);
        without one, every service signs in with `nats_url`."""
        # The mail server and SMS provider the services send through: local sinks of ours (on these ports, or
        # free ones), or sinks running elsewhere (`run_sinks=False`, e.g. the test session's).
        self.sinks = sinks or SinkAddresses(next(spare), next(spare), next(spare))
        if run_sinks and topology.edge_admin_socket is not None:  # ours: sent to on sockets in the run folder
            self.sinks = dataclasses.replace(self.sinks, socket_dir=topology.edge_admin_socket.parent)
        self._local_sinks = LocalSinks(self.data_dir / "sinks", self.sinks, self._supervisor) if run_sinks else None

    # Start / stop ----------------------------------------------------------------------------------

    def start(self) -> None:
        """Bring everything up concurrently; on any failure stop what was started and re-raise."""
        started = time.monotonic()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if self.envoys and not self.topology.descriptor_path.exists():
            raise FileNotFoundError(
                f"{self.topology.descriptor_path} is missing: run `athenaeum generate` first (the edge needs it)"
            )
        self.claim()
        if self._local_nats is not None:  # the mesh CA, made once before NATS and the Envoys both take from it
            from services.support.mesh.certs import ensure_ca

            ensure_ca(private_folder(self.topology.cert_dir))
        self._aborting = False
        try:
            with ThreadPoolExecutor(max_workers=3, thread_name_prefix="athenaeum-start") as pool:
                nats = pool.submit(self._local_nats.start) if self._local_nats else None
                branches = [pool.submit(self._start_backend, nats)]
                if self.envoys:
                    branches.append(pool.submit(self._start_envoys))
                self._run_first_failure_aborts(branches)
        except BaseException:
            self.stop()
            raise
        self.startup_seconds = time.monotonic() - started
        self.ready = True
        self._record_state()

    def claim(self) -> None:
        """Take the data folder for this mesh (`start()` does it too); MeshAlreadyRunning, with nothing touched,
        when another launcher runs a mesh from it."""
        if self._claim is None:
            self.data_dir.mkdir(parents=True, exist_ok=True)
            self._claim = state.claim(self.data_dir)

    def _run_first_failure_aborts(self, futures: list[Future[None]]) -> None:
        try:
            for future in futures:
                future.result()
        except BaseException:
            self._aborting = True  # the other branch stops waiting at its next poll
            raise

    def _check_alive(self) -> None:
        if self._aborting:
            raise StartupAborted("start-up aborted")
        self._supervisor.check_alive()

    def _start_backend(self, nats: Future[ManagedProcess] | None) -> None:
        if self._local_postgres is not None:
            self._local_postgres.start()
            self._progress("postgres accepts connections")
        for name in self.services:
            self.postgres.owned_database(registry.service(name).database, self._role_password(name))
        if nats is not None:
            nats.result()
            self._progress("nats JetStream is up")
        if self._local_sinks is not None:
            self._local_sinks.start()
            self._progress(f"mail sink {self.sinks.mail_url} and SMS sink {self.sinks.sms_url} are up")
        self._migrate_and_start_services()
        if self.services:
            self._wait_all(self.services, lambda name: service_health(self.app_target(name)) == "SERVING")
            self._progress("every service is SERVING")

    def _migrate_and_start_services(self) -> None:
        # Migrations run one at a time (Alembic's context is process-global); each service starts as soon
        # as its own schema is ready, so its interpreter boots while the next migration runs.
        from services.support.runtime.migrations import upgrade_to_head

        for name in self.services:
            if (components.REPO_ROOT / "services" / name / "migrations").is_dir():
                upgrade_to_head(name, self.database_url(name))
                self._progress(f"migrated {name}")
            self._check_alive()
            self._supervisor.start(
                components.service_spec(
                    name,
                    self.topology,
                    database_url=self.database_url(name),
                    nats_url=self._nats_url_for(name) if self._nats_url_for else self.nats_url,
                    extra_env=self.service_environment(),
                )
            )

    def _start_envoys(self) -> None:
        from services.support.mesh.certs import ensure_mesh_certs
        from services.support.mesh.envoy import write_configs

        ensure_mesh_certs(private_folder(self.topology.cert_dir), registry.identities())
        configs = write_configs(self.topology, self.data_dir / "envoy")
        names = [components.EDGE, *self.services]
        for name in names:
            self._supervisor.start(
                components.envoy_spec(name, configs[name], self.topology, log_level=self.envoy_log_level)
            )
        self._wait_all(names, lambda name: envoy_is_live(components.envoy_admin_port(name, self.topology)))
        self._progress("edge and sidecars are LIVE")

    def _wait_all(self, names: Sequence[str], probe: Callable[[str], bool]) -> None:
        pending = set(names)

        def all_ready() -> bool:
            pending.difference_update([name for name in list(pending) if probe(name)])
            return not pending

        wait_until(all_ready, timeout=self.ready_timeout, what=f"{', '.join(names)}", check_alive=self._check_alive)

    def stop(self) -> None:
        """Stop the edge, then sidecars, services, NATS and Postgres; never leaves a process behind."""
        sidecars = [components.sidecar_name(name) for name in self.services]
        sinks = [LocalSinks.MAIL, LocalSinks.SMS]
        for group in ([components.EDGE, *sidecars], list(self.services), [*sinks, "nats"], ["postgres"]):
            self._stop_together(group)
        self.ready = False
        self._supervisor.stop_all()
        with self._state_lock:  # a refused start leaves the state of the mesh that runs alone
            if self._claim is not None:
                with contextlib.suppress(OSError):  # stopping never fails on the state file
                    state.clear_state(self.data_dir)
                os.close(self._claim)
                self._claim = None

    def _stop_together(self, names: list[str]) -> None:
        running = [process for process in self.processes if process.name in names and process.running]
        with ThreadPoolExecutor(max_workers=max(1, len(running))) as pool:
            list(pool.map(lambda process: process.stop(), running))

    def _record_state(self) -> None:
        with self._state_lock:
            if self._claim is not None:  # only while the folder is ours: a stopped mesh's file stays cleared
                self._state.record(self.processes, self.endpoints(), ready=self.ready)

    def __enter__(self) -> LocalMesh:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
