"""Faults a test injects into its own NATS server (see the own_nats fixture)."""

from __future__ import annotations

from services.support.launcher.nats import LocalNats


def kill_nats(supervisor, server: LocalNats) -> None:
    """kill -9: no flush, no goodbye."""
    supervisor.process(server.name).kill()


def start_nats_again(supervisor, server: LocalNats) -> None:
    """The same server again (same store, same port), ready when JetStream is healthy."""
    supervisor.process(server.name).start()
    server.wait_ready()
