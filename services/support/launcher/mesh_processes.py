"""The processes of a running LocalMesh: one by name, a restart, a round of supervision, and the waits for
their readiness (a probe per kind of process). Mixed into LocalMesh (mesh.py), which starts and stops them."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path

from services.support.launcher import components
from services.support.launcher.layout import MeshAddresses
from services.support.launcher.nats import LocalNats
from services.support.launcher.postgres import PostgresServer
from services.support.launcher.processes import ManagedProcess, RestartPolicy, Supervisor
from services.support.launcher.readiness import (
    envoy_is_live,
    envoy_sees_every_host_healthy,
    service_health,
    wait_until,
)
from services.support.launcher.sink_servers import LocalSinks


class MeshProcesses(MeshAddresses):
    """What LocalMesh does with its processes; LocalMesh sets what is declared here (and records its state)."""

    services: tuple[str, ...]
    ready_timeout: float
    postgres: PostgresServer
    _supervisor: Supervisor
    _local_nats: LocalNats | None
    _local_sinks: LocalSinks | None
    _record_state: Callable[[], None]

    def process(self, name: str) -> ManagedProcess:
        """A supervised process: a service name, "<service>-sidecar", "edge", "postgres" or "nats"."""
        return self._supervisor.process(name)

    @property
    def processes(self) -> list[ManagedProcess]:
        return self._supervisor.processes

    def log_path(self, name: str) -> Path:
        return self.process(name).log_path

    def restart(self, name: str, *, wait: bool = True) -> None:
        """Stop (gracefully) and start one process again, then (by default) wait until it is ready."""
        self.process(name).restart()
        self._record_state()
        if wait:
            self.wait_ready(name)

    def supervise(self, policy: RestartPolicy) -> list[str]:
        """One round of supervision: bring back what crashed, within the policy (see Supervisor.supervise)."""
        return self._supervisor.supervise(policy)

    def wait_ready(self, name: str, timeout: float | None = None) -> None:
        """Wait until one process answers its readiness probe (after a kill/start in a test)."""
        process = self.process(name)
        probe = self._probe_for(name)
        wait_until(probe, timeout=timeout or self.ready_timeout, what=name, check_alive=process.check_alive)

    def wait_peers_in_sight(self, timeout: float | None = None) -> None:
        """Wait until the edge and every sidecar see every peer healthy (after a restart in a test: a sidecar
        that marked a peer down takes it back at its next health check, up to two seconds later)."""
        names = [components.EDGE, *self.services]
        port = functools.partial(components.envoy_admin_port, topology=self.topology)
        wait_until(
            lambda: all(envoy_sees_every_host_healthy(port(name)) for name in names),
            timeout=timeout or self.ready_timeout,
            what="every peer in sight of every Envoy",
        )

    def _probe_for(self, name: str) -> Callable[[], bool]:
        role = self.process(name).spec.extra.get("role")
        if role == components.SERVICE_ROLE:
            return lambda: service_health(self.app_target(name)) == "SERVING"
        if role == components.ENVOY_ROLE:
            port = int(self.process(name).spec.extra["admin_port"])
            return lambda: envoy_is_live(port)
        if name == "postgres":
            return self.postgres.accepts_connections
        if self._local_nats is not None and name == self._local_nats.name:
            return self._local_nats.is_healthy
        if self._local_sinks is not None and name in (LocalSinks.MAIL, LocalSinks.SMS):
            sinks = self._local_sinks
            return lambda: sinks.is_ready(name)
        raise KeyError(name)
