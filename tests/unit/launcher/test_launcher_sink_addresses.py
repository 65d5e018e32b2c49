"""The launcher's own mail and SMS sinks take messages on Unix sockets in the mesh's owner-only run folder,
and the notifications service is told so: on loopback ports any local account planted messages in them, or
took a port while a sink restarted and got the mesh's mail (no process is started here)."""

from __future__ import annotations

from pathlib import Path

from services.support.launcher.layout import local_mesh_topology
from services.support.launcher.mesh import LocalMesh
from services.support.launcher.processes import Supervisor
from services.support.launcher.sink_servers import LocalSinks, SinkAddresses
from services.support.mesh.topology import sequential_ports


def test_the_mesh_s_own_sinks_take_mail_and_sms_on_sockets_in_its_run_folder(tmp_path: Path) -> None:
    topology = local_mesh_topology(tmp_path, ports=sequential_ports(7300), edge_port=8380, edge_admin_port=9381)
    mesh = LocalMesh(tmp_path, topology, envoys=False)
    environment = mesh.service_environment()

    run_folder = (tmp_path / "run").resolve()
    assert environment["ATHENAEUM_SMTP_SOCKET"] == str(run_folder / "mail-sink.sock")
    assert environment["ATHENAEUM_SMS_SOCKET"] == str(run_folder / "sms-sink.sock")
    assert mesh.endpoints()["smtp"] == str(run_folder / "mail-sink.sock")  # what `up` prints


def test_the_sink_processes_listen_on_those_sockets(tmp_path: Path) -> None:
    addresses = SinkAddresses(7301, 7302, 7303, socket_dir=Path("/run/mesh"))
    mail, sms = LocalSinks(tmp_path, addresses, Supervisor(tmp_path / "logs")).specs()

    assert mail.argv[mail.argv.index("--smtp-socket") + 1] == "/run/mesh/mail-sink.sock"
    assert "--smtp-port" not in mail.argv
    assert sms.argv[sms.argv.index("--api-socket") + 1] == "/run/mesh/sms-sink.sock"


def test_sinks_without_a_socket_folder_stay_on_loopback_ports(tmp_path: Path) -> None:
    """The tests' and benches' sinks, which send with a plain SMTP or HTTP client."""
    addresses = SinkAddresses(7301, 7302, 7303)

    assert "ATHENAEUM_SMTP_SOCKET" not in addresses.service_environment()
    assert addresses.smtp_address == "127.0.0.1:7301"
