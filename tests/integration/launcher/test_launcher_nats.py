"""The bundled nats-server: JetStream is on, publishes are deduplicated by message id, and only clients
with the mesh's token get in."""

from __future__ import annotations

import contextlib
import os
import socket
import stat
import threading
from pathlib import Path

import nats as nats_client
import psutil
import pytest

from services.support.launcher.nats import LocalNats, jetstream_answers
from services.support.launcher.processes import Supervisor
from services.support.mesh.topology import free_ports

pytestmark = pytest.mark.integration


async def test_jetstream_stores_a_message_and_drops_its_duplicate(nats: str) -> None:
    client = await nats_client.connect(nats)
    try:
        jetstream = client.jetstream()
        await jetstream.add_stream(name="LAUNCHER_TEST", subjects=["launcher.test.>"], duplicate_window=60)
        first = await jetstream.publish("launcher.test.hello", b"hi", headers={"Nats-Msg-Id": "one"})
        again = await jetstream.publish("launcher.test.hello", b"hi", headers={"Nats-Msg-Id": "one"})
        info = await jetstream.stream_info("LAUNCHER_TEST")
        await jetstream.delete_stream("LAUNCHER_TEST")
    finally:
        await client.close()

    assert first.duplicate is None
    assert again.duplicate is True
    assert info.state.messages == 1


async def test_a_client_without_the_mesh_s_token_is_refused(nats: str) -> None:
    if "@" not in nats:
        pytest.skip("NATS_URL names a server of its own")
    without_token = f"nats://{nats.split('@', 1)[1]}"
    with pytest.raises(Exception) as refused:
        await nats_client.connect(without_token, max_reconnect_attempts=0, connect_timeout=2, allow_reconnect=False)
    assert "authorization" in str(refused.value).lower() or isinstance(refused.value, nats_client.errors.NoServersError)


def test_the_token_is_kept_from_other_accounts_and_off_the_command_line(tmp_path: Path) -> None:
    with Supervisor(tmp_path / "logs") as supervisor:
        server = LocalNats(tmp_path / "nats", 1, supervisor)
        spec = server._spec()
    token = server.url.split("://", 1)[1].split("@", 1)[0]
    assert len(token) >= 32 and token not in " ".join(spec.argv)
    for kept in (tmp_path / "nats" / "token", tmp_path / "nats" / "auth.conf"):
        assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    assert LocalNats(tmp_path / "nats", 1, Supervisor(tmp_path / "logs2")).url == server.url  # kept


def test_the_server_listens_on_its_client_port_only_with_no_monitoring_port_for_every_account(
    tmp_path: Path,
) -> None:
    port = next(free_ports())
    with Supervisor(tmp_path / "logs") as supervisor:
        server = LocalNats(tmp_path / "nats", port, supervisor)
        process = server.start()
        assert process.pid is not None
        listening = {
            connection.laddr.port
            for connection in psutil.Process(process.pid).net_connections(kind="inet")
            if connection.status == psutil.CONN_LISTEN
        }
        log = (tmp_path / "logs" / "nats.log").read_text()

        assert listening == {port}
        assert "monitor" not in log.lower()
        assert server.is_healthy() and jetstream_answers(port)


def test_a_port_that_is_no_nats_server_does_not_count_as_one(tmp_path: Path) -> None:
    port = next(free_ports())
    assert not jetstream_answers(port, timeout=1)  # nothing listens
    with socket.create_server(("127.0.0.1", port)) as silent:
        silent.settimeout(5)
        assert not jetstream_answers(port, timeout=0.5)  # accepts, never greets


def test_jetstream_puts_every_write_on_disk_before_it_acknowledges(tmp_path: Path) -> None:
    """What compose and the chart run (deploy/nats/authorization.conf), and the launcher's own config."""
    import json
    import os
    import subprocess
    import time
    import urllib.request

    from services.support.launcher.nats import nats_server_binary
    from services.support.mesh import nats_auth, registry

    config = Path(__file__).resolve().parents[3] / "deploy" / "nats" / "authorization.conf"
    port, monitor = next(free_ports()), next(free_ports())
    passwords = {nats_auth.password_variable(spec.name): "a-password" for spec in registry.SERVICES}
    # fmt: off
    argv = [str(nats_server_binary()), "-c", str(config), "--jetstream", "--store_dir", str(tmp_path),
            "-a", "127.0.0.1", "-p", str(port), "-m", str(monitor)]
    # fmt: on
    server = subprocess.Popen(argv, env={**os.environ, **passwords}, stderr=subprocess.PIPE)
    try:
        deadline, varz = time.monotonic() + 10, None
        while varz is None and time.monotonic() < deadline:
            try:
                varz = json.load(urllib.request.urlopen(f"http://127.0.0.1:{monitor}/varz", timeout=1))
            except OSError:
                time.sleep(0.1)
    finally:
        server.terminate()
        server.wait(10)
    assert varz is not None and varz["jetstream"]["config"]["sync_always"] is True
    with Supervisor(tmp_path / "logs") as supervisor:
        launchers = LocalNats(tmp_path / "launcher", next(free_ports()), supervisor)
        assert nats_auth.DURABILITY in launchers._config().read_text()


class _StandIn:
    """Another account's process on NATS's port (taken while the server was away), greeting as NATS does."""

    def __init__(self, port: int) -> None:
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", port))
        self.listener.listen()
        threading.Thread(target=self._greet, daemon=True).start()

    def close(self) -> None:
        """Shut down first: a bare close would leave the thread in accept(), still listening on the port."""
        with contextlib.suppress(OSError):
            self.listener.shutdown(socket.SHUT_RDWR)
        self.listener.close()

    def _greet(self) -> None:
        info = b'INFO {"server_id":"x","version":"2.15.1","jetstream":true,"auth_required":true}\r\n'
        while True:
            try:
                connection, _ = self.listener.accept()
            except OSError:
                return
            with connection:
                connection.sendall(info)


def test_a_stand_in_on_the_port_is_not_taken_for_the_server(tmp_path: Path) -> None:
    port = next(free_ports())
    stand_in = _StandIn(port)
    try:
        assert jetstream_answers(port)  # its greeting alone is NATS's
        with Supervisor(tmp_path / "logs") as supervisor:
            server = LocalNats(tmp_path / "nats", port, supervisor)
            with pytest.raises(Exception, match="nats"):
                server.start(timeout=3)  # the real one cannot bind: not "restarted and healthy"
            assert not server.is_healthy()
            assert not jetstream_answers(port, pid=os.getpid() + 10**6)  # nobody's: not the server's
    finally:
        stand_in.close()
