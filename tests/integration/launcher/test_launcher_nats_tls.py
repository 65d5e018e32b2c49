"""The local mesh's NATS speaks TLS first with a certificate of the mesh's CA, and its clients check it before
they send anything: a process that took NATS's port while it restarted gets no service's password."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
from pathlib import Path

import nats as nats_client
import pytest

from services.support.launcher.nats import LocalNats, jetstream_answers
from services.support.launcher.processes import Supervisor
from services.support.mesh.certs import ensure_ca
from services.support.mesh.topology import free_ports
from services.support.runtime.messaging import NatsLink, tls_options

pytestmark = pytest.mark.integration


class _Listening:
    """Another account's process on NATS's port: greets as NATS without TLS, and keeps what clients send."""

    def __init__(self, port: int) -> None:
        self.received = bytearray()
        self.listener = socket.create_server(("127.0.0.1", port))
        threading.Thread(target=self._serve, daemon=True).start()

    def close(self) -> None:
        """Shut down first: a bare close would leave the thread in accept(), still listening on the port."""
        with contextlib.suppress(OSError):
            self.listener.shutdown(socket.SHUT_RDWR)
        self.listener.close()

    def _serve(self) -> None:
        info = b'INFO {"server_id":"x","version":"2.15.1","jetstream":true,"auth_required":true}\r\n'
        while True:
            try:
                connection, _ = self.listener.accept()
            except OSError:
                return
            with connection:
                connection.settimeout(2)
                connection.sendall(info)
                try:
                    while chunk := connection.recv(4096):
                        self.received += chunk
                except OSError:
                    pass


async def _connected(link: NatsLink, within: float) -> bool:
    running = asyncio.create_task(link.run())
    try:
        await asyncio.wait_for(link.wait_connected(), within)
        return True
    except TimeoutError:
        return False
    finally:
        running.cancel()
        with contextlib.suppress(TimeoutError):  # a connect that hangs on the stand-in is left to the loop
            await asyncio.wait_for(asyncio.gather(running, return_exceptions=True), 3)
            await asyncio.wait_for(link.close(), 3)


async def test_the_services_speak_tls_to_the_mesh_nats_and_trust_only_its_ca(tmp_path: Path) -> None:
    port = next(free_ports())
    with Supervisor(tmp_path / "logs") as supervisor:
        server = LocalNats(tmp_path / "nats", port, supervisor, ca_dir=tmp_path / "certs")
        server.start()
        assert server.ca_file is not None and server.is_healthy()
        assert jetstream_answers(port, ca_file=server.ca_file)
        link = NatsLink(server.url_for("catalog"), name="tls-test", owner="catalog", ca_file=server.ca_file)
        running = asyncio.create_task(link.run())
        await asyncio.wait_for(link.wait_connected(), 10)
        acknowledged = await link.jetstream().publish("athenaeum.catalog.book_updated.v1", b"", timeout=5)
        assert acknowledged.stream == "ATHENAEUM_CATALOG"
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)
        await link.close()
        other_ca = ensure_ca(tmp_path / "other-ca")
        assert not jetstream_answers(port, ca_file=other_ca)
        with pytest.raises(Exception):  # noqa: B017 - refused however the client puts it
            await nats_client.connect(server.url, allow_reconnect=False, connect_timeout=2, **tls_options(other_ca))
        with pytest.raises(Exception):  # noqa: B017 - nor a client that would speak plain TCP
            await nats_client.connect(server.url, allow_reconnect=False, connect_timeout=2)


async def test_a_stand_in_on_the_port_gets_no_password(tmp_path: Path) -> None:
    port = next(free_ports())
    ca_file = ensure_ca(tmp_path / "certs")
    stand_in = _Listening(port)
    try:
        password = "the-catalogs-password"
        link = NatsLink(f"nats://catalog:{password}@127.0.0.1:{port}", name="tls-test", ca_file=ca_file)
        assert not await _connected(link, within=3)
        assert b"CONNECT" not in stand_in.received and password.encode() not in stand_in.received
        assert not jetstream_answers(port, ca_file=ca_file)
        plain = NatsLink(f"nats://catalog:{password}@127.0.0.1:{port}", name="plain-test")
        await _connected(plain, within=2)
        assert password.encode() in stand_in.received  # what a client that checks nothing hands over
    finally:
        stand_in.close()
